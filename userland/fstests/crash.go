package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// Tests for whole-disk properties, which the QEMU tests check from the
// host afterwards: tree-10k leaves the disk for valfs fsck, and
// crash-writer runs until the machine is killed under it (power cuts).
// Both run only when named.

// crashDir holds crash-writer's files.
const crashDir = "/var/crash"

// CrashContent is file f-<k>'s content, which the host test computes
// too (tests/powercut_test.go): a line naming the file, repeated to
// 1000 + k*997 mod 50000 bytes.
func crashContent(k int) []byte {
	line := []byte(fmt.Sprintf("crash file %d\n", k))
	n := 1000 + k*997%50000
	return bytes.Repeat(line, n/len(line)+1)[:n]
}

// testCrashWriter writes crashDir/f-<k> for k = 0, 1, ... up to 400,
// each fsynced (file and directory) before the line "fstests:
// crash-writer: synced k" is printed, and between them rewrites and
// renames files it never syncs, so that a cut finds work in flight.
func testCrashWriter(string) error {
	if err := os.RemoveAll(crashDir); err != nil {
		return err
	}
	if err := os.MkdirAll(crashDir, 0o755); err != nil {
		return err
	}
	dir, err := os.Open(crashDir)
	if err != nil {
		return err
	}
	defer dir.Close()
	for k := range 400 {
		noise := filepath.Join(crashDir, fmt.Sprintf("noise-%d", k%5))
		if err := os.WriteFile(noise, pattern(k, 1+k*4099%70000), 0o644); err != nil {
			return err
		}
		if err := os.Rename(noise, noise+".old"); err != nil {
			return err
		}
		f, err := os.OpenFile(filepath.Join(crashDir, "f-"+strconv.Itoa(k)), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		_, err = f.Write(crashContent(k))
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = dir.Sync()
		}
		if err != nil {
			return fmt.Errorf("f-%d: %w", k, err)
		}
		fmt.Printf("fstests: crash-writer: synced %d\n", k)
	}
	return nil
}

// testTree10k creates 10,000 files in 100 directories, lists them,
// renames every directory and every tenth file, walks the tree, and
// removes it.
func testTree10k(dir string) error {
	const dirs, files = 100, 100
	root := filepath.Join(dir, "tree")
	for d := range dirs {
		sub := filepath.Join(root, fmt.Sprintf("d%03d", d))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return err
		}
		for f := range files {
			name := filepath.Join(sub, fmt.Sprintf("file-%03d-%03d", d, f))
			var data []byte
			if f == 0 {
				data = []byte(name) // one file a directory has data
			}
			if err := os.WriteFile(name, data, 0o644); err != nil {
				return err
			}
		}
	}
	for d := range dirs {
		sub := filepath.Join(root, fmt.Sprintf("d%03d", d))
		ents, err := os.ReadDir(sub)
		if err != nil {
			return err
		}
		if len(ents) != files {
			return fmt.Errorf("%s lists %d entries, want %d", sub, len(ents), files)
		}
		for f := 0; f < files; f += 10 {
			old := filepath.Join(sub, fmt.Sprintf("file-%03d-%03d", d, f))
			if err := os.Rename(old, old+".renamed"); err != nil {
				return err
			}
		}
		if err := os.Rename(sub, filepath.Join(root, fmt.Sprintf("r%03d", d))); err != nil {
			return err
		}
	}
	nfiles, ndirs, renamed := 0, 0, 0
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			ndirs++
			return nil
		}
		nfiles++
		if filepath.Ext(p) == ".renamed" {
			renamed++
		}
		return nil
	})
	if err != nil {
		return err
	}
	if nfiles != dirs*files || ndirs != dirs+1 || renamed != dirs*files/10 {
		return fmt.Errorf("walk: %d files (%d renamed) in %d directories, want %d (%d) in %d",
			nfiles, renamed, ndirs, dirs*files, dirs*files/10, dirs+1)
	}
	if err := os.RemoveAll(root); err != nil {
		return err
	}
	fmt.Printf("fstests: tree-10k: %d files in %d directories created, listed, renamed, walked and removed\n", nfiles, dirs)
	return nil
}
