package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"valence.dev/microkernel/ksym"
	"valence.dev/servers/fs/blockdev"
	vfs "valence.dev/servers/fs/fs"
	"valence.dev/tools/mkimage/internal/elftest"
	"valence.dev/tools/mkimage/mbimage"
)

const base = mbimage.KernelBase

// fixture writes a synthetic kernel, an image directory and a host file
// into a temporary directory and returns their paths.
func fixture(t *testing.T) (dir, kernel, image, hello string) {
	t.Helper()
	dir = t.TempDir()
	kernel = filepath.Join(dir, "kernel.elf")
	image = filepath.Join(dir, "image")
	hello = filepath.Join(dir, "hello")
	k := elftest.Build(elftest.Spec{
		Segments: []elftest.Segment{
			{Vaddr: base + 0x200000, Flags: elf.PF_R | elf.PF_X, Data: make([]byte, 0x2000)},
			{Vaddr: base + 0x202000, Flags: elf.PF_R | elf.PF_W, Data: []byte("data"), Memsz: 0x3000},
		},
		Syms: []elftest.Sym{
			{Name: mbimage.DefaultEntry, Value: base + 0x200010, Size: 0x10, Type: elf.STT_FUNC, InText: true},
			{Name: "main.main", Value: base + 0x200100, Size: 0x40, Type: elf.STT_FUNC, InText: true},
			{Name: "runtime.etext", Value: base + 0x202000, Type: elf.STT_FUNC, InText: true},
		},
	})
	for p, data := range map[string]string{kernel: string(k), hello: "hello", filepath.Join(image, "etc/motd"): "motd"} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, kernel, image, hello
}

func noEnv(string) (string, bool) { return "", false }

func TestRun(t *testing.T) {
	dir, kernel, image, hello := fixture(t)
	out := filepath.Join(dir, "out", "nested")
	var stdout, stderr bytes.Buffer
	err := run([]string{"-kernel", kernel, "-image", image, "-add", hello, "-add", hello + ":/sbin/init", "-disk-add", hello + ":/usr/bin/hi", "-out", out},
		&stdout, &stderr, noEnv)
	if err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr.String())
	}
	want := "mkimage: valence.mb 12 KiB (load 0x1ff000-0x202004, bss to 0x205000, entry 0x200010); " +
		"initfs.tar 3 files 6 KiB; kernel.sym 2 symbols; root.img 256.0 MiB, 52 KiB used\n"
	if diff := cmp.Diff(want, stdout.String()); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}

	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if _, _, err := mbimage.ParseHeader(read("valence.mb")); err != nil {
		t.Errorf("valence.mb: %v", err)
	}

	tab, err := ksym.Open(read("kernel.sym"))
	if err != nil {
		t.Fatalf("kernel.sym: %v", err)
	}
	type hit struct {
		Name string
		Off  uint64
		OK   bool
	}
	name, off, ok := tab.Lookup(base + 0x200105)
	if diff := cmp.Diff(hit{"main.main", 5, true}, hit{string(name), off, ok}); diff != "" {
		t.Errorf("kernel.sym lookup (-want +got):\n%s", diff)
	}

	var names []string
	tr := tar.NewReader(bytes.NewReader(read("initfs.tar")))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
	if diff := cmp.Diff([]string{"bin/", "bin/hello", "etc/", "etc/motd", "sbin/", "sbin/init"}, names); diff != "" {
		t.Errorf("initfs.tar members (-want +got):\n%s", diff)
	}

	// The root disk holds the same tree (rootdisk's tests check it in
	// detail); here, that mkimage wired it up.
	dev, err := blockdev.OpenFile(filepath.Join(out, "root.img"), true)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	disk, err := vfs.Mount(dev, vfs.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("mounting root.img: %v", err)
	}
	defer disk.Unmount()
	// -add files are on the disk too, not only in the initfs; -disk-add
	// files only there (the initfs members above lack /usr/bin/hi).
	for p, want := range map[string]string{"/etc/motd": "motd", "/bin/hello": "hello", "/sbin/init": "hello", "/usr/bin/hi": "hello"} {
		if got, err := disk.ReadFile(p); err != nil || string(got) != want {
			t.Errorf("root.img %s = %q, %v; want %q", p, got, err, want)
		}
	}
	// The mount points init needs, which the image lacks.
	for p, want := range map[string]uint32{"/boot": 0o755, "/dev": 0o755, "/proc": 0o755, "/tmp": 0o1777} {
		if st, err := disk.Stat(p); err != nil || st.Mode != vfs.ModeDir|want {
			t.Errorf("root.img %s: mode %#o, %v; want a directory of mode %#o", p, st.Mode, err, want)
		}
	}

	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if fi, err := e.Info(); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v (%v), want 0644", e.Name(), fi.Mode(), err)
		}
	}
	var files []string
	for _, e := range entries {
		files = append(files, e.Name())
	}
	if diff := cmp.Diff([]string{"initfs.tar", "kernel.sym", "root.img", "valence.mb"}, files); diff != "" {
		t.Errorf("output directory (-want +got; no temporaries may remain):\n%s", diff)
	}
}

func TestRunErrors(t *testing.T) {
	dir, kernel, image, hello := fixture(t)
	notELF := filepath.Join(dir, "not.elf")
	if err := os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no kernel", []string{"-out", out}, nil, "-kernel is required"},
		{"no out", []string{"-kernel", kernel}, nil, "-out is required"},
		{"extra argument", []string{"-kernel", kernel, "-out", out, "stray"}, nil, "unexpected arguments"},
		{"bad -add", []string{"-kernel", kernel, "-out", out, "-add", hello + ":relative"}, nil, "not absolute"},
		{"unknown flag", []string{"-kernel", kernel, "-out", out, "-cmdline", "x"}, nil, "not defined"},
		{"bad SOURCE_DATE_EPOCH", []string{"-kernel", kernel, "-out", out}, map[string]string{"SOURCE_DATE_EPOCH": "soon"}, "SOURCE_DATE_EPOCH"},
		{"missing kernel", []string{"-kernel", filepath.Join(dir, "nope"), "-out", out}, nil, "no such file"},
		{"kernel is a directory", []string{"-kernel", dir, "-out", out}, nil, "not a regular file"},
		{"not ELF", []string{"-kernel", notELF, "-out", out}, nil, "reading kernel ELF"},
		{"wrong entry", []string{"-kernel", kernel, "-out", out, "-entry", "nope"}, nil, `"nope" not found`},
		{"missing image", []string{"-kernel", kernel, "-out", out, "-image", image + "x"}, nil, "image directory"},
		{"missing add", []string{"-kernel", kernel, "-out", out, "-add", hello + "x"}, nil, "no such file"},
		{"bad -disk-size", []string{"-kernel", kernel, "-out", out, "-disk-size", "big"}, nil, `-disk-size "big"`},
		{"-disk-size too small", []string{"-kernel", kernel, "-out", out, "-image", image, "-disk-size", "1M"}, nil, "root.img: rootdisk: 1048576 bytes is too small"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			var stdout, stderr bytes.Buffer
			err := run(tt.args, &stdout, &stderr, env)
			if err == nil {
				t.Fatal("run succeeded")
			}
			// Flag errors are printed by the flag package, others by main.
			msg := err.Error()
			if errors.Is(err, errReported) {
				msg = stderr.String()
			}
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error = %q, want it to contain %q", msg, tt.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("printed a summary despite failing: %q", stdout.String())
			}
			if entries, _ := os.ReadDir(out); len(entries) != 0 {
				t.Errorf("failed run left %d files in the output directory", len(entries))
			}
		})
	}
}

func TestRunHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run([]string{"-h"}, &stdout, &stderr, noEnv)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("run -h = %v, want flag.ErrHelp", err)
	}
	for _, f := range []string{"-kernel", "-image", "-add", "-out", "-entry", "-disk-size"} {
		if !strings.Contains(stderr.String(), f) {
			t.Errorf("usage does not mention %s", f)
		}
	}
}

// TestRunReproducible runs mkimage twice and compares every output byte
// but root.img's, whose volume id is random by design (rootdisk's tests
// check its contents).
func TestRunReproducible(t *testing.T) {
	_, kernel, image, hello := fixture(t)
	outputs := func(env map[string]string) map[string][]byte {
		out := t.TempDir()
		err := run([]string{"-kernel", kernel, "-image", image, "-add", hello, "-out", out},
			io.Discard, io.Discard, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err != nil {
			t.Fatal(err)
		}
		m := map[string][]byte{}
		for _, n := range []string{"valence.mb", "initfs.tar", "kernel.sym"} {
			if m[n], err = os.ReadFile(filepath.Join(out, n)); err != nil {
				t.Fatal(err)
			}
		}
		return m
	}
	a := outputs(nil)
	if diff := cmp.Diff(a, outputs(map[string]string{"SOURCE_DATE_EPOCH": ""})); diff != "" {
		t.Errorf("second run differs:\n%s", diff)
	}
	if bytes.Equal(a["initfs.tar"], outputs(map[string]string{"SOURCE_DATE_EPOCH": "1700000000"})["initfs.tar"]) {
		t.Error("SOURCE_DATE_EPOCH did not change initfs.tar")
	}
}

// TestRunGoLinkedKernel runs the whole tool on a Go binary linked like the
// real kernel.
func TestRunGoLinkedKernel(t *testing.T) {
	k := elftest.LinkGo(t)
	dir := t.TempDir()
	kernel := filepath.Join(dir, "kernel.elf")
	if err := os.WriteFile(kernel, k, 0o644); err != nil {
		t.Fatal(err)
	}
	image := filepath.Join(dir, "image")
	if err := os.MkdirAll(image, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(image, ".keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	if err := run([]string{"-kernel", kernel, "-image", image, "-out", filepath.Join(dir, "out")}, &stdout, io.Discard, noEnv); err != nil {
		t.Fatalf("run: %v", err)
	}
	if !strings.HasPrefix(stdout.String(), "mkimage: valence.mb ") || !strings.Contains(stdout.String(), "(load 0x1ff000-") ||
		!strings.Contains(stdout.String(), "initfs.tar 0 files 1 KiB") {
		t.Errorf("unexpected summary %q", stdout.String())
	}
}

func TestHumanSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1024, "1 KiB"}, {1535, "1 KiB"}, {1536, "2 KiB"}, {12 << 10, "12 KiB"},
		{1 << 20, "1.0 MiB"}, {4300000, "4.1 MiB"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, humanSize(tt.n)); diff != "" {
			t.Errorf("humanSize(%d) (-want +got):\n%s", tt.n, diff)
		}
	}
}
