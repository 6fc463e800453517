package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
)

func testFiles() error {
	motd, err := os.ReadFile("/etc/motd")
	if err != nil {
		return err
	}
	if !strings.Contains(string(motd), "Valence") {
		return fmt.Errorf("/etc/motd says %q", motd)
	}
	f, err := os.Open("/etc/motd")
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() != int64(len(motd)) || !st.Mode().IsRegular() {
		return fmt.Errorf("stat: %v %v", st, err)
	}
	buf := make([]byte, 4)
	if _, err := f.ReadAt(buf, 3); err != nil || !bytes.Equal(buf, motd[3:7]) {
		return fmt.Errorf("pread: %q %v", buf, err)
	}
	if off, err := f.Seek(-2, io.SeekEnd); err != nil || off != int64(len(motd))-2 {
		return fmt.Errorf("seek: %d %v", off, err)
	}
	ents, err := os.ReadDir("/bin")
	if err != nil {
		return err
	}
	found := false
	for _, e := range ents {
		found = found || e.Name() == "usertests"
	}
	if !found {
		return fmt.Errorf("/bin lists %v without usertests", ents)
	}
	if target, err := os.Readlink("/etc/issue"); err != nil || target != "motd" {
		return fmt.Errorf("readlink /etc/issue: %q %v", target, err)
	}
	if b, err := os.ReadFile("/etc/issue"); err != nil || !bytes.Equal(b, motd) {
		return fmt.Errorf("reading through the symlink: %v", err)
	}
	if _, err := os.Stat("/no/such/file"); !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("stat of a missing file: %v", err)
	}
	if err := os.WriteFile("/etc/motd", []byte("x"), 0o644); !errors.Is(err, syscall.EROFS) {
		return fmt.Errorf("writing the read-only initfs: %v, want EROFS", err)
	}
	z, err := os.Open("/dev/zero")
	if err != nil {
		return err
	}
	defer z.Close()
	if n, err := z.Read(buf); n != 4 || err != nil || !bytes.Equal(buf, make([]byte, 4)) {
		return fmt.Errorf("/dev/zero: %d %v", n, err)
	}
	wd, err := os.Getwd()
	if err != nil || wd != "/" {
		return fmt.Errorf("getwd %q %v", wd, err)
	}
	if err := os.Chdir("/etc"); err != nil {
		return err
	}
	defer os.Chdir("/")
	if _, err := os.Stat("motd"); err != nil {
		return fmt.Errorf("relative path after chdir: %v", err)
	}
	return nil
}

func testPipes() error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	data := bytes.Repeat([]byte("pipe data "), 20000) // 200 KB: more than the pipe holds
	go func() {
		w.Write(data)
		w.Close()
	}()
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, data) {
		return fmt.Errorf("read %d of %d bytes: %v", len(got), len(data), err)
	}
	// Writing to a pipe with no reader is EPIPE (SIGPIPE is ignored by Go
	// for descriptors other than 1 and 2).
	r2, w2, err := os.Pipe()
	if err != nil {
		return err
	}
	r2.Close()
	if _, err := w2.Write([]byte("x")); !errors.Is(err, syscall.EPIPE) {
		return fmt.Errorf("write without a reader: %v, want EPIPE", err)
	}
	w2.Close()
	return testSendfile()
}

// testSendfile copies from a file into a pipe with sendfile(2), at an
// offset it updates (the file's own offset untouched) and at the file
// offset (advanced), and checks Linux's errnos for a source without
// offsets and a destination not open for writing.
func testSendfile() error {
	motd, err := os.ReadFile("/etc/motd")
	if err != nil {
		return err
	}
	f, err := os.Open("/etc/motd")
	if err != nil {
		return err
	}
	defer f.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	defer w.Close()
	in, out := int(f.Fd()), int(w.Fd())
	off := int64(3)
	if n, err := syscall.Sendfile(out, in, &off, 4); n != 4 || err != nil || off != 7 {
		return fmt.Errorf("sendfile at offset 3: %d, %v, offset %d; want 4, nil, 7", n, err, off)
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); pos != 0 {
		return fmt.Errorf("sendfile at an offset moved the file offset to %d", pos)
	}
	if n, err := syscall.Sendfile(out, in, nil, len(motd)+100); n != len(motd) || err != nil {
		return fmt.Errorf("sendfile of the whole file: %d, %v; want %d", n, err, len(motd))
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); pos != int64(len(motd)) {
		return fmt.Errorf("sendfile left the file offset at %d, want %d", pos, len(motd))
	}
	if n, err := syscall.Sendfile(out, in, nil, 10); n != 0 || err != nil {
		return fmt.Errorf("sendfile at the end: %d, %v; want 0, nil", n, err)
	}
	got := make([]byte, 4+len(motd))
	if _, err := io.ReadFull(r, got); err != nil || !bytes.Equal(got, append(motd[3:7:7], motd...)) {
		return fmt.Errorf("the pipe holds %q (%v)", got, err)
	}
	if _, err := syscall.Sendfile(out, int(r.Fd()), nil, 1); err != syscall.EINVAL {
		return fmt.Errorf("sendfile from a pipe: %v, want EINVAL", err)
	}
	if _, err := syscall.Sendfile(in, in, nil, 1); err != syscall.EBADF {
		return fmt.Errorf("sendfile to a read-only file: %v, want EBADF", err)
	}
	return nil
}
