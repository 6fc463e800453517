package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
)

// The persist tests check that what was fsynced survives a reboot: a
// test machine boots the same disk twice, running persist-write first and
// persist-check second. They run only when named.

const (
	persistDir   = "/var/fstests/persist"
	persistCount = 20
)

// persistContent is file-<i>'s content: 1000+517*i bytes (the last ones
// over several blocks), with a header naming the file.
func persistContent(i int) []byte {
	head := fmt.Sprintf("fstests persist file %d\n", i)
	return append([]byte(head), pattern(1000+i, 1000+517*i)...)
}

// testPersistWrite writes persistDir/file-<i>, fsyncing each file and
// the directories, then syncs everything.
func testPersistWrite(string) error {
	if err := os.RemoveAll(persistDir); err != nil {
		return err
	}
	if err := os.MkdirAll(persistDir, 0o755); err != nil {
		return err
	}
	for i := range persistCount {
		f, err := os.OpenFile(filepath.Join(persistDir, fmt.Sprintf("file-%d", i)), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		_, err = f.Write(persistContent(i))
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("file-%d: %v", i, err)
		}
	}
	for _, d := range []string{persistDir, filepath.Dir(persistDir), "/var", "/"} {
		f, err := os.Open(d)
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return fmt.Errorf("fsync of %s: %v", d, err)
		}
	}
	syscall.Sync()
	fmt.Printf("fstests: persist: %d files written and synced in %s\n", persistCount, persistDir)
	return nil
}

// testPersistCheck reads back what testPersistWrite wrote (on an earlier
// boot).
func testPersistCheck(string) error {
	var want []string
	for i := range persistCount {
		name := fmt.Sprintf("file-%d", i)
		want = append(want, name)
		got, err := os.ReadFile(filepath.Join(persistDir, name))
		if err != nil {
			return err
		}
		if w := persistContent(i); !bytes.Equal(got, w) {
			return fmt.Errorf("%s: %d bytes, want %d; %s", name, len(got), len(w), firstDiff(got, w))
		}
	}
	ents, err := os.ReadDir(persistDir)
	if err != nil {
		return err
	}
	slices.Sort(want)
	if got := entryNames(ents); !slices.Equal(got, want) {
		return fmt.Errorf("%s lists %q, want %q", persistDir, got, want)
	}
	fmt.Printf("fstests: persist: %d files in %s intact\n", persistCount, persistDir)
	return nil
}
