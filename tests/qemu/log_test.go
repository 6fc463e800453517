package qemu

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLogLine(t *testing.T) {
	tests := []struct {
		line string
		want bool
	}{
		{"[    0.000000] Valence 0.1.0 (go1.26.8) booting on x86_64", true},
		{"[12345.123456] mm: 1024 MiB", true},
		{"[0.000001] x", true},
		{"[    0.00000] too few digits", false},
		{"[    0.1234567] too many digits", false},
		{"[    0.000000]no space", false},
		{" [    0.000000] leading space", false},
		{"[    .000000] no seconds", false},
		{"valence# ", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := LogLine.MatchString(tc.line); got != tc.want {
			t.Errorf("LogLine.MatchString(%q) = %v, want %v", tc.line, got, tc.want)
		}
	}
}

func TestParseLog(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want []LogEntry
	}{
		{"empty", "", nil},
		{"no log lines", "hello\nvalence# ", nil},
		{
			"boot",
			"[    0.000000] Valence 0.1.0 (go1.26.8) booting on x86_64\n" +
				"[    0.001250] console: 16550 at 0x3f8\n" +
				"not a log line\n" +
				"[    1.500000] runtime: up in 12.5 ms\r\n" +
				"[  100.000001] \n" +
				"valence# ",
			[]LogEntry{
				{0, "Valence 0.1.0 (go1.26.8) booting on x86_64"},
				{1250 * time.Microsecond, "console: 16550 at 0x3f8"},
				{1500 * time.Millisecond, "runtime: up in 12.5 ms"},
				{100*time.Second + time.Microsecond, ""},
			},
		},
		{"huge timestamp", "[99999999999999999999.000000] overflow\n[ 1.000000] ok", []LogEntry{{time.Second, "ok"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ParseLog(tc.out)); diff != "" {
				t.Errorf("ParseLog mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLogFileName(t *testing.T) {
	tests := []struct{ test, want string }{
		{"TestBoot", "TestBoot"},
		{"TestPanic/selftest=panic", "TestPanic_selftest=panic"},
		{"TestX/a b:c", "TestX_a_b_c"},
		{"", "test"},
		{"..", "test"},
	}
	for _, tc := range tests {
		if got := logFileName(tc.test); got != tc.want {
			t.Errorf("logFileName(%q) = %q, want %q", tc.test, got, tc.want)
		}
	}
}

func TestSaveLog(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "test-logs")
	var paths []string
	for _, out := range []string{"first\n", "second\n"} {
		path, err := saveLog(dir, "TestA/b", out)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != out {
			t.Errorf("%s holds %q, want %q", path, got, out)
		}
		paths = append(paths, filepath.Base(path))
	}
	if diff := cmp.Diff([]string{"TestA_b.log", "TestA_b.2.log"}, paths); diff != "" {
		t.Errorf("log files (-want +got):\n%s", diff)
	}
	if _, err := saveLog("", "TestA", "x"); err == nil {
		t.Error("saveLog with no directory succeeded")
	}
}
