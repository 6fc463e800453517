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
	return nil
}
