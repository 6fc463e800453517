package initfs

import (
	"archive/tar"
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type entry struct {
	name, body, link string
	typ              byte
}

func build(t testing.TB, entries []entry) []byte {
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o755, Size: int64(len(e.body)), Linkname: e.link}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := w.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			w.Write([]byte(e.body))
		}
	}
	w.Close()
	return b.Bytes()
}

func TestLoad(t *testing.T) {
	data := build(t, []entry{
		{name: "bin/", typ: tar.TypeDir},
		{name: "bin/hello", body: "ELF...", typ: tar.TypeReg},
		{name: "etc/motd", body: "welcome\n", typ: tar.TypeReg},
		{name: "bin/sh", link: "hello", typ: tar.TypeSymlink},
	})
	fs, err := Load(data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"bin", "bin/hello", "bin/sh", "etc/motd"}, fs.Names()); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	f, ok := fs.Lookup("/etc/motd")
	if !ok || string(f.Data) != "welcome\n" {
		t.Fatalf("Lookup(/etc/motd) = %+v, %v", f, ok)
	}
	if fs.Bytes() != int64(len("ELF...")+len("welcome\n")) {
		t.Errorf("Bytes = %d", fs.Bytes())
	}
	// Data must alias the archive, not a copy.
	if &f.Data[0] != &data[bytes.Index(data, []byte("welcome"))] {
		t.Errorf("file data was copied")
	}
	if l, _ := fs.Lookup("bin/sh"); l.Link != "hello" {
		t.Errorf("symlink target = %q", l.Link)
	}
}

func TestLoadRefuses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []entry
	}{
		{"dotdot", []entry{{name: "../etc/passwd", body: "x", typ: tar.TypeReg}}},
		{"inner dotdot", []entry{{name: "bin/../../x", body: "x", typ: tar.TypeReg}}},
		{"duplicate", []entry{{name: "a", body: "1", typ: tar.TypeReg}, {name: "a", body: "2", typ: tar.TypeReg}}},
		{"device", []entry{{name: "dev/null", typ: tar.TypeChar}}},
		{"unclean", []entry{{name: "a//b", body: "x", typ: tar.TypeReg}}},
		{"empty symlink", []entry{{name: "l", typ: tar.TypeSymlink}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(build(t, tc.entries))
			if !errors.Is(err, ErrBadArchive) {
				t.Fatalf("Load = %v, want ErrBadArchive", err)
			}
		})
	}
}

func TestLoadTruncated(t *testing.T) {
	data := build(t, []entry{{name: "big", body: string(make([]byte, 5000)), typ: tar.TypeReg}})
	for _, n := range []int{100, 512, 1024, 3000} {
		if _, err := Load(data[:n]); err == nil {
			t.Errorf("Load of %d of %d bytes succeeded", n, len(data))
		}
	}
}

func FuzzLoad(f *testing.F) {
	f.Add(build(f, []entry{{name: "bin/x", body: "abc", typ: tar.TypeReg}, {name: "d/", typ: tar.TypeDir}}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		fs, err := Load(data)
		if err != nil {
			return
		}
		for _, n := range fs.Names() {
			e, ok := fs.Lookup(n)
			if !ok || e.Size != int64(len(e.Data)) {
				t.Fatalf("entry %q inconsistent", n)
			}
		}
	})
}
