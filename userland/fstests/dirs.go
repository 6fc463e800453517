package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// testDirs makes, lists and removes directories.
func testDirs(dir string) error {
	c := filepath.Join(dir, "a", "b", "c")
	if err := os.MkdirAll(c, 0o755); err != nil {
		return err
	}
	if st, err := os.Stat(c); err != nil || !st.IsDir() {
		return fmt.Errorf("stat of a/b/c after MkdirAll: %v %v", st, err)
	}
	if err := os.MkdirAll(c, 0o755); err != nil {
		return fmt.Errorf("MkdirAll of an existing tree: %v", err)
	}
	a := filepath.Join(dir, "a")
	files := []string{"zeta", "alpha", "Mid", "m", "_x", "b2"}
	for _, n := range files {
		if err := os.WriteFile(filepath.Join(a, n), []byte(n), 0o644); err != nil {
			return err
		}
	}
	if err := os.Mkdir(filepath.Join(a, "dir2"), 0o755); err != nil {
		return err
	}
	want := append(slices.Clone(files), "b", "dir2")
	slices.Sort(want)
	ents, err := os.ReadDir(a)
	if err != nil {
		return err
	}
	if got := entryNames(ents); !slices.Equal(got, want) {
		return fmt.Errorf("ReadDir(a): %q, want %q", got, want)
	}
	for _, e := range ents {
		isDir := e.Name() == "b" || e.Name() == "dir2"
		if e.IsDir() != isDir || !isDir && !e.Type().IsRegular() {
			return fmt.Errorf("ReadDir(a): %s has type %v", e.Name(), e.Type())
		}
		info, err := e.Info()
		if err != nil || info.IsDir() != isDir || !isDir && info.Size() != int64(len(e.Name())) {
			return fmt.Errorf("ReadDir(a): info of %s: %v %v", e.Name(), info, err)
		}
	}
	// A directory's link count: 2 plus one per subdirectory.
	if n, err := nlink(a); err != nil || n != 4 {
		return fmt.Errorf("nlink of a (subdirectories b and dir2): %d %v, want 4", n, err)
	}
	if err := wantErrno("Remove of a non-empty directory", os.Remove(a), syscall.ENOTEMPTY); err != nil {
		return err
	}
	if err := wantErrno("rmdir of a file", syscall.Rmdir(filepath.Join(a, "zeta")), syscall.ENOTDIR); err != nil {
		return err
	}
	if err := wantErrno("unlink of a directory", syscall.Unlink(filepath.Join(a, "dir2")), syscall.EISDIR); err != nil {
		return err
	}
	err = os.Mkdir(filepath.Join(a, "b"), 0o755)
	if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("Mkdir of an existing directory: %v, want fs.ErrExist", err)
	}
	if err := firstErr(wantErrno("Mkdir of an existing directory", err, syscall.EEXIST),
		wantErrno("Mkdir over a file", os.Mkdir(filepath.Join(a, "zeta"), 0o755), syscall.EEXIST),
		wantErrno("Mkdir in a missing directory", os.Mkdir(filepath.Join(a, "none", "x"), 0o755), syscall.ENOENT)); err != nil {
		return err
	}
	// An empty directory goes with Remove; rmdir of "." is EINVAL.
	if err := os.Remove(filepath.Join(a, "dir2")); err != nil {
		return fmt.Errorf("Remove of an empty directory: %v", err)
	}
	if err := wantErrno("rmdir of a/b/c/.", syscall.Rmdir(c+"/."), syscall.EINVAL); err != nil {
		return err
	}
	if err := os.RemoveAll(a); err != nil {
		return fmt.Errorf("RemoveAll: %v", err)
	}
	if _, err := os.Lstat(a); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("stat after RemoveAll: %v, want fs.ErrNotExist", err)
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
		return fmt.Errorf("the test directory after RemoveAll: %q %v, want empty", entryNames(ents), err)
	}
	return nil
}

func entryNames(ents []fs.DirEntry) []string {
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func nlink(name string) (uint64, error) {
	st, err := os.Lstat(name)
	if err != nil {
		return 0, err
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, fmt.Errorf("stat of %s has no syscall.Stat_t", name)
	}
	return uint64(sys.Nlink), nil
}

// manyName is the i'th file of many-files: 6 to 200 bytes.
func manyName(i int) string {
	return fmt.Sprintf("f%04d-", i) + strings.Repeat(string(rune('a'+i%26)), i%195)
}

const manyCount = 2000

// testManyFiles fills one directory with manyCount files, lists it in
// several ways (getdents in batches), renames and removes them all.
func testManyFiles(dir string) error {
	d := filepath.Join(dir, "d")
	if err := os.Mkdir(d, 0o755); err != nil {
		return err
	}
	names := make([]string, manyCount)
	for i := range names {
		names[i] = manyName(i)
		f, err := os.OpenFile(filepath.Join(d, names[i]), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return fmt.Errorf("creating file %d: %v", i, err)
		}
		if i%100 == 0 {
			if _, err := f.Write([]byte(names[i])); err != nil {
				return err
			}
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	if err := listedOnce(d, names); err != nil {
		return err
	}
	renamed := make([]string, manyCount)
	for i, n := range names {
		renamed[i] = "r" + n[1:] + "-renamed"
		if err := os.Rename(filepath.Join(d, n), filepath.Join(d, renamed[i])); err != nil {
			return fmt.Errorf("renaming file %d: %v", i, err)
		}
	}
	if err := listedOnce(d, renamed); err != nil {
		return fmt.Errorf("after renaming: %w", err)
	}
	if b, err := os.ReadFile(filepath.Join(d, renamed[1500])); err != nil || string(b) != names[1500] {
		return fmt.Errorf("file 1500 after renaming: %q %v", b, err)
	}
	for i, n := range renamed {
		if err := os.Remove(filepath.Join(d, n)); err != nil {
			return fmt.Errorf("removing file %d: %v", i, err)
		}
	}
	if err := listedOnce(d, nil); err != nil {
		return fmt.Errorf("after removing: %w", err)
	}
	fmt.Printf("fstests: many-files: %d files created, listed, renamed and removed in one directory\n", manyCount)
	return os.Remove(d)
}

// listedOnce lists d with os.ReadDir, with f.ReadDir(7) and with raw
// getdents64 into a small buffer, and checks that each lists exactly
// want, each name once.
func listedOnce(d string, want []string) error {
	want = slices.Sorted(slices.Values(want))
	ents, err := os.ReadDir(d)
	if err != nil {
		return err
	}
	if err := sameNames("os.ReadDir", entryNames(ents), want); err != nil {
		return err
	}
	f, err := os.Open(d)
	if err != nil {
		return err
	}
	defer f.Close()
	var got []string
	for {
		batch, err := f.ReadDir(7)
		if len(batch) > 7 {
			return fmt.Errorf("f.ReadDir(7) returned %d entries", len(batch))
		}
		got = append(got, entryNames(batch)...)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("f.ReadDir(7) after %d entries: %v", len(got), err)
		}
		if len(batch) == 0 {
			return fmt.Errorf("f.ReadDir(7) returned nothing and no error after %d entries", len(got))
		}
	}
	if err := sameNames("f.ReadDir(7)", got, want); err != nil {
		return err
	}
	got, err = getdentsNames(d, 512)
	if err != nil {
		return err
	}
	return sameNames("getdents64 into 512 bytes", got, want)
}

// getdentsNames lists d by getdents64 into a buffer of bufSize bytes,
// leaving out "." and "..", which it checks come once each.
func getdentsNames(d string, bufSize int) ([]string, error) {
	fd, err := syscall.Open(d, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	buf := make([]byte, bufSize)
	var names []string
	dots := map[string]int{}
	for {
		n, err := syscall.Getdents(fd, buf)
		if err != nil {
			return nil, fmt.Errorf("getdents64 after %d names: %v", len(names), err)
		}
		if n == 0 {
			break
		}
		// struct linux_dirent64: ino u64, off s64, reclen u16, type u8, name.
		for b := buf[:n]; len(b) > 0; {
			if len(b) < 20 {
				return nil, fmt.Errorf("getdents64: %d bytes left over", len(b))
			}
			reclen := int(b[16]) | int(b[17])<<8
			if reclen < 20 || reclen > len(b) || reclen%8 != 0 {
				return nil, fmt.Errorf("getdents64: record length %d with %d bytes left", reclen, len(b))
			}
			name := b[19:reclen]
			if i := slices.Index(name, 0); i >= 0 {
				name = name[:i]
			} else {
				return nil, fmt.Errorf("getdents64: a name without its NUL")
			}
			switch s := string(name); s {
			case ".", "..":
				dots[s]++
			default:
				names = append(names, s)
			}
			b = b[reclen:]
		}
	}
	if dots["."] != 1 || dots[".."] != 1 {
		return nil, fmt.Errorf("getdents64 listed \".\" %d times and \"..\" %d times, want once each", dots["."], dots[".."])
	}
	return names, nil
}

// sameNames checks that got holds each of want (sorted) exactly once.
func sameNames(how string, got, want []string) error {
	seen := make(map[string]int, len(got))
	for _, n := range got {
		seen[n]++
		if seen[n] == 2 {
			return fmt.Errorf("%s: %q listed twice", how, n)
		}
	}
	for _, n := range want {
		if seen[n] == 0 {
			return fmt.Errorf("%s: %q missing (%d of %d listed)", how, n, len(got), len(want))
		}
	}
	if len(got) != len(want) {
		for _, n := range got {
			if _, ok := slices.BinarySearch(want, n); !ok {
				return fmt.Errorf("%s: %q listed, not there", how, n)
			}
		}
	}
	return nil
}

// testSeekDir reads part of a directory, seeks it back to the start, and
// lists it again from the beginning.
func testSeekDir(dir string) error {
	var want []string
	for i := range 50 {
		n := fmt.Sprintf("entry-%02d-%s", i, strings.Repeat("x", i*3))
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			return err
		}
		want = append(want, n)
	}
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	first, err := f.ReadDir(10)
	if err != nil || len(first) != 10 {
		return fmt.Errorf("f.ReadDir(10): %d entries, %v", len(first), err)
	}
	for _, e := range first {
		if _, ok := slices.BinarySearch(want, e.Name()); !ok {
			return fmt.Errorf("f.ReadDir(10) listed %q", e.Name())
		}
	}
	if off, err := f.Seek(0, io.SeekStart); err != nil || off != 0 {
		return fmt.Errorf("Seek(0, 0) on a directory: %d %v", off, err)
	}
	all, err := f.ReadDir(-1)
	if err != nil {
		return fmt.Errorf("f.ReadDir(-1) after the seek: %v", err)
	}
	if err := sameNames("f.ReadDir(-1) after Seek(0, 0)", entryNames(all), want); err != nil {
		return err
	}
	// Read to the end, then rewind once more: the whole list again.
	if more, err := f.ReadDir(10); len(more) != 0 || err != io.EOF {
		return fmt.Errorf("f.ReadDir(10) at the end: %d entries, %v, want io.EOF", len(more), err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	names, err := f.Readdirnames(-1)
	if err != nil {
		return err
	}
	return sameNames("f.Readdirnames(-1) after the second Seek(0, 0)", names, want)
}
