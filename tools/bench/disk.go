package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The disk boots' pieces: the NVMe image both guests read, and the Linux
// modules that go into the disk boot's initramfs.

const (
	// sector and patternMagic define the image's fill, which
	// userland/diskbench checks: every 512-byte sector starts with its
	// number xor the magic ("valence" in ASCII), little-endian.
	sector       = 512
	patternMagic = 0x76616c656e6365
)

// fillSectors writes the pattern of the sectors starting at first into b
// (a whole number of sectors): the header word, then bytes that are never
// all zero, so no sector reads as a hole.
func fillSectors(b []byte, first uint64) {
	for i := 0; i+sector <= len(b); i += sector {
		n := first + uint64(i/sector)
		binary.LittleEndian.PutUint64(b[i:], n^patternMagic)
		for j := 8; j < sector; j++ {
			b[i+j] = byte(n) ^ byte(j) | 0x80
		}
	}
}

// imageReady reports whether path is an image of size bytes with the
// pattern at its first and last sectors (an interrupted fill never
// leaves one: it is written aside and renamed).
func imageReady(path string, size int64) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || st.Size() != size {
		return false
	}
	got, want := make([]byte, sector), make([]byte, sector)
	for _, s := range []int64{0, size/sector - 1} {
		if _, err := f.ReadAt(got, s*sector); err != nil {
			return false
		}
		fillSectors(want, uint64(s))
		if !bytes.Equal(got, want) {
			return false
		}
	}
	return true
}

// makeDiskImage writes the patterned image of size bytes at path, unless
// it is there already.
func makeDiskImage(path string, size int64) error {
	if size <= 0 || size%(1<<20) != 0 {
		return fmt.Errorf("disk size %d is not a positive number of MiB", size)
	}
	if imageReady(path, size) {
		return nil
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	chunk := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(chunk)) {
		fillSectors(chunk, uint64(off/sector))
		if _, err := f.Write(chunk); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// parseOrder reads a module order file (scripts/fetch-linux.sh): one
// module file name per line, dependencies first.
func parseOrder(text string) ([]string, error) {
	var names []string
	seen := map[string]bool{}
	for i, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if !strings.HasSuffix(l, ".ko") || strings.ContainsAny(l, "/ \t") || l == ".ko" {
			return nil, fmt.Errorf("line %d: %q is not a module file name", i+1, l)
		}
		if seen[l] {
			return nil, fmt.Errorf("line %d: %s listed twice", i+1, l)
		}
		seen[l] = true
		names = append(names, l)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no modules listed")
	}
	return names, nil
}

// moduleEntries are the initramfs entries for the modules in dir listed
// by the order files named (each dependencies first; a module in an
// earlier list is not loaded again): /lib/modules/<name>.ko each and
// /lib/modules/order, all the lists in one, which diskbench and
// filebench follow.
func moduleEntries(dir string, orders ...string) ([]cpioEntry, error) {
	var names []string
	for _, o := range orders {
		text, err := os.ReadFile(filepath.Join(dir, o))
		if err != nil {
			return nil, err
		}
		list, err := parseOrder(string(text))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, o), err)
		}
		for _, n := range list {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	es := []cpioEntry{
		{name: "lib", mode: sIFDIR | 0o755},
		{name: "lib/modules", mode: sIFDIR | 0o755},
		{name: "lib/modules/order", mode: sIFREG | 0o644, data: []byte(strings.Join(names, "\n") + "\n")},
	}
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		es = append(es, cpioEntry{name: "lib/modules/" + n, mode: sIFREG | 0o644, data: data})
	}
	return es, nil
}
