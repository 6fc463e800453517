package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Sizes around the file protocol's inline limit (3072 bytes), the
// 4096-byte block, and large enough to go through the shared buffer in
// several pieces.
var fileSizes = []int{0, 1, 3071, 3072, 3073, 100000, 1<<20 + 17}

// testCreateRead writes files of fileSizes, in one write and in odd
// pieces, and reads them back whole and by pread at odd offsets.
func testCreateRead(dir string) error {
	for i, size := range fileSizes {
		want := pattern(i+1, size)
		name := filepath.Join(dir, fmt.Sprintf("whole-%d", size))
		if err := os.WriteFile(name, want, 0o644); err != nil {
			return err
		}
		if err := checkFile(name, want); err != nil {
			return err
		}
		// The same bytes written in pieces of odd sizes.
		name = filepath.Join(dir, fmt.Sprintf("pieces-%d", size))
		if err := writePieces(name, want); err != nil {
			return err
		}
		if err := checkFile(name, want); err != nil {
			return err
		}
		if err := checkPread(name, want); err != nil {
			return err
		}
	}
	// pwrite across block boundaries into the middle of a file.
	name := filepath.Join(dir, "whole-100000")
	want := pattern(6, 100000) // what the loop wrote there (fileSizes[5], seed 6)
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, w := range []struct{ off, n int }{{4090, 12}, {8191, 5000}, {0, 1}, {99999, 1}, {30001, 3073}} {
		p := pattern(w.off, w.n)
		if n, err := f.WriteAt(p, int64(w.off)); n != w.n || err != nil {
			return fmt.Errorf("pwrite %d at %d: %d, %v", w.n, w.off, n, err)
		}
		copy(want[w.off:], p)
	}
	// A pwrite past the end makes a hole of zeros.
	if _, err := f.WriteAt([]byte("tail"), 100000+5000); err != nil {
		return err
	}
	want = append(want, make([]byte, 5000)...)
	want = append(want, "tail"...)
	if err := checkFile(name, want); err != nil {
		return fmt.Errorf("after pwrites: %w", err)
	}
	return checkPread(name, want)
}

func writePieces(name string, data []byte) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	pieces := []int{1, 3071, 3072, 3073, 4095, 4097, 65537, 7}
	for i := 0; len(data) > 0; i++ {
		n := min(pieces[i%len(pieces)], len(data))
		if m, err := f.Write(data[:n]); m != n || err != nil {
			f.Close()
			return fmt.Errorf("%s: write %d: %d, %v", name, n, m, err)
		}
		data = data[n:]
	}
	return f.Close()
}

// checkFile reads name with os.ReadFile and compares it with want, and
// checks the size that stat reports.
func checkFile(name string, want []byte) error {
	got, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("%s: read back %d bytes, want %d; %s", name, len(got), len(want), firstDiff(got, want))
	}
	st, err := os.Stat(name)
	if err != nil {
		return err
	}
	if st.Size() != int64(len(want)) || !st.Mode().IsRegular() {
		return fmt.Errorf("%s: stat says size %d mode %v, want size %d, a regular file", name, st.Size(), st.Mode(), len(want))
	}
	return nil
}

func firstDiff(got, want []byte) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("first difference at byte %d: %#02x, want %#02x", i, got[i], want[i])
		}
	}
	return "one is a prefix of the other"
}

// checkPread reads name by pread at odd offsets and lengths.
func checkPread(name string, want []byte) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	size := len(want)
	offs := []int{0, 1, 17, 3071, 3072, 3073, 4095, 4097, size / 3, size - 1, size, size + 5}
	lens := []int{1, 17, 3072, 3073, 5000, 65537}
	for _, off := range offs {
		if off < 0 {
			continue
		}
		for _, n := range lens {
			buf := make([]byte, n)
			got, err := f.ReadAt(buf, int64(off))
			wantN := max(0, min(n, size-off))
			if got != wantN {
				return fmt.Errorf("%s: pread %d at %d: %d bytes (%v), want %d", name, n, off, got, err, wantN)
			}
			if wantN < n && err != io.EOF || wantN == n && err != nil {
				return fmt.Errorf("%s: pread %d at %d: %v", name, n, off, err)
			}
			if got > 0 && !bytes.Equal(buf[:got], want[off:off+got]) {
				return fmt.Errorf("%s: pread %d at %d: wrong bytes; %s", name, n, off, firstDiff(buf[:got], want[off:off+got]))
			}
		}
	}
	return nil
}

// testAppend writes through two O_APPEND descriptors in turn: every
// write lands at the end, whichever descriptor made it.
func testAppend(dir string) error {
	name := filepath.Join(dir, "log")
	a, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer a.Close()
	b, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	defer b.Close()
	var want []byte
	sizes := []int{5, 3072, 1, 3073, 10000, 2, 4096, 7}
	for i, n := range sizes {
		f := a
		if i%2 == 1 {
			f = b
		}
		p := pattern(100+i, n)
		if m, err := f.Write(p); m != n || err != nil {
			return fmt.Errorf("append %d bytes (write %d): %d, %v", n, i, m, err)
		}
		want = append(want, p...)
		// After an O_APPEND write the descriptor's offset is the end.
		if off, err := f.Seek(0, io.SeekCurrent); off != int64(len(want)) || err != nil {
			return fmt.Errorf("offset after append %d: %d, %v, want %d", i, off, err, len(want))
		}
	}
	// Seeking an O_APPEND descriptor back does not move where writes go.
	if _, err := a.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := a.Write([]byte("end")); err != nil {
		return err
	}
	want = append(want, "end"...)
	if err := checkFile(name, want); err != nil {
		return err
	}
	r, err := os.Open(name)
	if err != nil {
		return err
	}
	defer r.Close()
	if end, err := r.Seek(0, io.SeekEnd); end != int64(len(want)) || err != nil {
		return fmt.Errorf("Seek(0, SeekEnd): %d, %v, want %d", end, err, len(want))
	}
	if end, err := b.Seek(0, io.SeekEnd); end != int64(len(want)) || err != nil {
		return fmt.Errorf("Seek(0, SeekEnd) on the other descriptor: %d, %v, want %d", end, err, len(want))
	}
	return nil
}

// testExclTrunc checks O_EXCL, O_TRUNC, truncate and ftruncate.
func testExclTrunc(dir string) error {
	name := filepath.Join(dir, "f")
	data := pattern(7, 5000)
	if err := os.WriteFile(name, data, 0o644); err != nil {
		return err
	}
	_, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("O_EXCL on an existing file: %v, want fs.ErrExist", err)
	}
	if err := wantErrno("O_EXCL on an existing file", err, syscall.EEXIST); err != nil {
		return err
	}
	// O_EXCL on a dangling symlink: EEXIST, and nothing is created.
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink("nowhere", dangling); err != nil {
		return err
	}
	_, err = os.OpenFile(dangling, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err := wantErrno("O_EXCL on a dangling symlink", err, syscall.EEXIST); err != nil {
		return err
	}
	if _, err := os.Lstat(filepath.Join(dir, "nowhere")); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("O_EXCL on a dangling symlink created its target: %v", err)
	}
	// O_EXCL on a new name creates it.
	f, err := os.OpenFile(filepath.Join(dir, "new"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("O_EXCL on a new name: %v", err)
	}
	f.Close()
	// O_TRUNC empties.
	f, err = os.OpenFile(name, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if st, err := f.Stat(); err != nil || st.Size() != 0 {
		return fmt.Errorf("fstat after O_TRUNC: %v %v, want size 0", st, err)
	}
	f.Close()
	if err := checkFile(name, nil); err != nil {
		return fmt.Errorf("after O_TRUNC: %w", err)
	}
	// truncate grows with zeros and shrinks.
	if err := os.WriteFile(name, data, 0o644); err != nil {
		return err
	}
	if err := os.Truncate(name, 10000); err != nil {
		return fmt.Errorf("truncate to grow: %v", err)
	}
	want := append(append([]byte{}, data...), make([]byte, 5000)...)
	if err := checkFile(name, want); err != nil {
		return fmt.Errorf("after truncate to grow: %w", err)
	}
	if err := os.Truncate(name, 3000); err != nil {
		return fmt.Errorf("truncate to shrink: %v", err)
	}
	if err := checkFile(name, data[:3000]); err != nil {
		return fmt.Errorf("after truncate to shrink: %w", err)
	}
	// ftruncate: shrink into the first block, then grow again: the bytes
	// cut off must not come back.
	f, err = os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(100); err != nil {
		return fmt.Errorf("ftruncate to shrink: %v", err)
	}
	if err := checkFile(name, data[:100]); err != nil {
		return fmt.Errorf("after ftruncate to shrink: %w", err)
	}
	if err := f.Truncate(8192 + 10); err != nil {
		return fmt.Errorf("ftruncate to grow: %v", err)
	}
	want = append(append([]byte{}, data[:100]...), make([]byte, 8192+10-100)...)
	if err := checkFile(name, want); err != nil {
		return fmt.Errorf("after ftruncate to grow: %w", err)
	}
	if st, err := f.Stat(); err != nil || st.Size() != 8202 {
		return fmt.Errorf("fstat after ftruncate: %v %v, want size 8202", st, err)
	}
	// A write past the end after a shrink: zeros between.
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt([]byte("x"), 6000); err != nil {
		return err
	}
	want = append(make([]byte, 6000), 'x')
	return checkFile(name, want)
}
