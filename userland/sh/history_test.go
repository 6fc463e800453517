package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHistoryEncoding(t *testing.T) {
	for _, e := range []string{"ls", `echo a\b`, "for i in 1\ndo echo $i\ndone", `\n`, "\\\\\n\\", "tab\there"} {
		line := encodeHistEntry(e)
		if strings.ContainsRune(line, '\n') {
			t.Errorf("encode(%q) = %q has a newline", e, line)
		}
		if got := decodeHistEntry([]byte(line)); got != e {
			t.Errorf("decode(encode(%q)) = %q", e, got)
		}
	}
}

func TestParseHistory(t *testing.T) {
	tests := []struct {
		name string
		in   string
		size int
		want []string
	}{
		{"lines", "a\nb\nc\n", 10, []string{"a", "b", "c"}},
		{"last line without newline", "a\nb", 10, []string{"a", "b"}},
		{"keeps the last size", "a\nb\nc\nd\n", 2, []string{"c", "d"}},
		{"escapes", `x\ny` + "\n" + `back\\slash` + "\n", 10, []string{"x\ny", `back\slash`}},
		{"unknown escape kept", `a\qb` + "\n" + `trailing\`, 10, []string{`a\qb`, `trailing\`}},
		{"blank lines skipped", "\n\n  \na\n\t\n", 10, []string{"a"}},
		{"binary kept", "\x00\xff\x01\n", 10, []string{"\x00\xff\x01"}},
		{"size zero", "a\n", 0, nil},
		{"oversized entry dropped", strings.Repeat("x", maxHistEntry+1) + "\nok\n", 10, []string{"ok"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := parseHistory([]byte(tc.in), tc.size)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parseHistory (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseHistory(f *testing.F) {
	f.Add([]byte("ls\ncd /\necho a\\nb\n"), 3)
	f.Add([]byte("\\\\\\\n\x00\xff"), 1000)
	f.Fuzz(func(t *testing.T, data []byte, size int) {
		size = size % (maxHistSize + 1)
		if size < 0 {
			size = -size
		}
		entries := parseHistory(data, size)
		if len(entries) > size {
			t.Fatalf("%d entries for size %d", len(entries), size)
		}
		for _, e := range entries {
			if strings.TrimSpace(e) == "" || len(e) > maxHistEntry {
				t.Fatalf("kept entry %q", e)
			}
			// What is written reads back the same.
			back := parseHistory([]byte(encodeHistEntry(e)+"\n"), 1)
			if len(back) != 1 || back[0] != e {
				t.Fatalf("round trip of %q gave %q", e, back)
			}
		}
	})
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseHistory(data, maxHistSize)
}

func TestHistoryFileBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hist")
	h := &history{size: 3, path: path}
	h.load()
	for _, c := range []string{"one", "two", "", "three", "four\nmore", "five"} {
		h.add(c)
	}
	want := []string{"three", "four\nmore", "five"}
	if diff := cmp.Diff(want, h.list()); diff != "" {
		t.Errorf("memory (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, readLines(t, path)); diff != "" {
		t.Errorf("file (-want +got):\n%s", diff)
	}
	// A new shell reads the same.
	h2 := &history{size: 3, path: path}
	h2.load()
	if diff := cmp.Diff(want, h2.list()); diff != "" {
		t.Errorf("reloaded (-want +got):\n%s", diff)
	}
	// A smaller HISTSIZE trims the file on load.
	h3 := &history{size: 1, path: path}
	h3.load()
	if diff := cmp.Diff([]string{"five"}, readLines(t, path)); diff != "" {
		t.Errorf("trimmed file (-want +got):\n%s", diff)
	}
}

func TestHistoryHostileFiles(t *testing.T) {
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge")
	var b bytes.Buffer
	for b.Len() < maxHistRead+(1<<20) {
		b.WriteString("echo some command line\n")
	}
	b.WriteString("last\n")
	if err := os.WriteFile(huge, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	h := &history{size: 10, path: huge}
	h.load()
	if n := len(h.list()); n != 10 || h.list()[9] != "last" {
		t.Errorf("huge file: %d entries ending %q", n, h.list()[n-1])
	}
	if fi, _ := os.Stat(huge); fi.Size() > 1000 {
		t.Errorf("huge file not trimmed: %d bytes", fi.Size())
	}

	var warnings bytes.Buffer
	unwritable := &history{size: 10, path: filepath.Join(dir, "no", "such", "dir"), errOut: &warnings}
	unwritable.load()
	unwritable.add("a")
	unwritable.add("b")
	if diff := cmp.Diff([]string{"a", "b"}, unwritable.list()); diff != "" {
		t.Errorf("unwritable file: memory (-want +got):\n%s", diff)
	}
	if n := strings.Count(warnings.String(), "\n"); n != 1 {
		t.Errorf("want one warning, got %q", warnings.String())
	}

	asDir := &history{size: 10, path: dir, errOut: &warnings}
	asDir.load()
	asDir.add("c")
	if diff := cmp.Diff([]string{"c"}, asDir.list()); diff != "" {
		t.Errorf("directory as file (-want +got):\n%s", diff)
	}
}

func TestHistSize(t *testing.T) {
	for in, want := range map[string]int{"": defaultHistSize, "5": 5, "0": 0, "-3": defaultHistSize, "x": defaultHistSize, "99999999": maxHistSize} {
		if got := histSizeOf(in); got != want {
			t.Errorf("histSizeOf(%q) = %d, want %d", in, got, want)
		}
	}
}
