package main

import (
	"fmt"
	"io"
)

// The initramfs is a "newc" cpio archive (the format the Linux kernel
// unpacks: Documentation/driver-api/early-userspace/buffer-format.rst):
// per entry a 110-byte ASCII header of 8-digit hex fields, the name with
// its NUL, padding to 4 bytes, the data, padding to 4 bytes; a
// "TRAILER!!!" entry ends it.

type cpioEntry struct {
	name         string
	mode         uint32 // type and permission bits (S_IFREG|0755, S_IFDIR, S_IFCHR)
	data         []byte
	major, minor uint32 // device numbers for S_IFCHR
}

const (
	sIFREG = 0o100000
	sIFDIR = 0o040000
	sIFCHR = 0o020000
)

func writeCpio(w io.Writer, entries []cpioEntry) error {
	ino := uint32(1)
	for _, e := range append(entries, cpioEntry{name: "TRAILER!!!"}) {
		nlink := uint32(1)
		if e.mode&sIFDIR != 0 {
			nlink = 2
		}
		hdr := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
			ino, e.mode, 0, 0, nlink, 0, len(e.data), 0, 0, e.major, e.minor, len(e.name)+1, 0)
		ino++
		if _, err := io.WriteString(w, hdr+e.name+"\x00"); err != nil {
			return err
		}
		if err := pad(w, len(hdr)+len(e.name)+1); err != nil {
			return err
		}
		if _, err := w.Write(e.data); err != nil {
			return err
		}
		if err := pad(w, len(e.data)); err != nil {
			return err
		}
	}
	return nil
}

func pad(w io.Writer, n int) error {
	if r := n % 4; r != 0 {
		_, err := w.Write(make([]byte, 4-r))
		return err
	}
	return nil
}
