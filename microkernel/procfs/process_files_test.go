package procfs

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// read returns the content of file rel, failing the test if it is not a
// file.
func read(t *testing.T, src Source, self int, rel string) string {
	t.Helper()
	n, e := Lookup(src, self, rel)
	if e != 0 {
		t.Fatalf("Lookup(%q): %v", rel, e)
	}
	if n.Kind != File {
		t.Fatalf("Lookup(%q) is a %v, not a File", rel, n.Kind)
	}
	return string(n.Data)
}

func TestProcessFiles(t *testing.T) {
	tests := []struct {
		rel  string
		want string
	}{
		{"42/stat", "42 (sh) R 1 42 1 1281 100 0 0 0 0 0 99 1 0 0 20 0 3 0 250 123456789 1280 18446744073709551615" +
			" 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"},
		{"7/stat", "7 (done) Z 1 1 1 0 -1 0 0 0 0 0 2 3 0 0 20 0 1 0 500 0 0 18446744073709551615" +
			" 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"},
		{"100/stat", "100 (a b) c\\d\nlonger) D 42 100 1 1281 100 0 0 0 0 0 0 0 0 0 20 0 1 0 0 0 0 18446744073709551615" +
			" 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"},
		{"42/status", "Name:\tsh\n" +
			"Umask:\t0077\n" +
			"State:\tR (running)\n" +
			"Tgid:\t42\nNgid:\t0\nPid:\t42\nPPid:\t1\nTracerPid:\t0\n" +
			"Uid:\t1000\t1000\t1000\t1000\n" +
			"Gid:\t100\t100\t100\t100\n" +
			"FDSize:\t128\n" +
			"Groups:\t\n" +
			"NStgid:\t42\nNSpid:\t42\nNSpgid:\t42\nNSsid:\t1\n" +
			"VmSize:\t  120563 kB\n" +
			"VmRSS:\t    5120 kB\n" +
			"Threads:\t3\n"},
		{"7/status", "Name:\tdone\n" +
			"Umask:\t0000\n" +
			"State:\tZ (zombie)\n" +
			"Tgid:\t7\nNgid:\t0\nPid:\t7\nPPid:\t1\nTracerPid:\t0\n" +
			"Uid:\t0\t0\t0\t0\n" +
			"Gid:\t0\t0\t0\t0\n" +
			"FDSize:\t0\n" +
			"Groups:\t\n" +
			"NStgid:\t7\nNSpid:\t7\nNSpgid:\t1\nNSsid:\t1\n" +
			"Threads:\t1\n"},
		{"1/status", "Name:\tinit\n" +
			"Umask:\t0022\n" +
			"State:\tS (sleeping)\n" +
			"Tgid:\t1\nNgid:\t0\nPid:\t1\nPPid:\t0\nTracerPid:\t0\n" +
			"Uid:\t0\t0\t0\t0\n" +
			"Gid:\t0\t0\t0\t0\n" +
			"FDSize:\t64\n" +
			"Groups:\t\n" +
			"NStgid:\t1\nNSpid:\t1\nNSpgid:\t1\nNSsid:\t1\n" +
			"VmSize:\t    8192 kB\n" +
			"VmRSS:\t    2048 kB\n" +
			"Threads:\t5\n"},
		{"42/statm", "30140 1280 0 0 0 0 0\n"},
		{"7/statm", "0 0 0 0 0 0 0\n"},
		{"42/cmdline", "sh\x00-c\x00echo hi\x00"},
		{"7/cmdline", ""}, // a zombie's is empty
		{"1/environ", "HOME=/\x00TERM=linux\x00"},
		{"42/environ", ""},
		{"7/environ", ""},
		{"42/comm", "sh\n"},
		{"7/comm", "done\n"},
		{"100/comm", "a b) c\\d\nlonger\n"}, // 15 bytes, not escaped
	}
	for _, tt := range tests {
		got := read(t, newFake(), 42, tt.rel)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.rel, diff)
		}
	}
}

// TestStatusName checks the escaping of the name in status, which Linux
// applies there and not in stat or comm.
func TestStatusName(t *testing.T) {
	tests := []struct {
		name string
		want string
	}{
		{"sh", "sh"},
		{"a b) c\\d\nlonger than fifteen", `a b) c\\d\nlonger`},
		{"exactly15bytes!!", "exactly15bytes!"},
		{"nul\x00after", "nul"},
		{"", ""},
	}
	for _, tt := range tests {
		src := newFake()
		p := src.procs[42]
		p.Name = tt.name
		src.procs[42] = p
		line, _, _ := strings.Cut(read(t, src, 42, "42/status"), "\n")
		if diff := cmp.Diff("Name:\t"+tt.want, line); diff != "" {
			t.Errorf("name %q (-want +got):\n%s", tt.name, diff)
		}
	}
}

// parseStat splits a stat line as careful parsers (procps) do: the name
// is between the first '(' and the last ')', and the rest is split on
// spaces. It returns the fields numbered as in proc(5): [1] is the pid.
func parseStat(t *testing.T, s string) []string {
	t.Helper()
	open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || close < open || !strings.HasSuffix(s, "\n") {
		t.Fatalf("malformed stat %q", s)
	}
	fields := []string{"", strings.TrimSuffix(s[:open], " "), s[open+1 : close]}
	return append(fields, strings.Split(strings.TrimSuffix(s[close+2:], "\n"), " ")...)
}

func TestProcStatFields(t *testing.T) {
	tests := []struct {
		pid  string
		want map[int]string // field number (proc(5)) to value
	}{
		{"42", map[int]string{1: "42", 2: "sh", 3: "R", 4: "1", 5: "42", 6: "1", 7: "1281", 8: "100",
			14: "99", 15: "1", 18: "20", 20: "3", 22: "250", 23: "123456789", 24: "1280", 38: "17", 52: "0"}},
		{"1", map[int]string{1: "1", 2: "init", 3: "S", 4: "0", 7: "0", 8: "-1", 14: "123", 15: "45", 20: "5", 22: "3",
			23: "8388608", 24: "512"}},
		{"7", map[int]string{1: "7", 2: "done", 3: "Z", 14: "2", 15: "3", 20: "1", 22: "500", 23: "0", 24: "0"}},
		{"100", map[int]string{1: "100", 2: "a b) c\\d\nlonger", 3: "D", 4: "42", 5: "100", 7: "1281", 8: "100", 20: "1", 22: "0"}},
	}
	for _, tt := range tests {
		fields := parseStat(t, read(t, newFake(), 1, tt.pid+"/stat"))
		if len(fields) != 53 {
			t.Errorf("%s/stat has %d fields, want 52: %q", tt.pid, len(fields)-1, fields[1:])
			continue
		}
		got := map[int]string{}
		for i := range tt.want {
			got[i] = fields[i]
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s/stat fields (-want +got):\n%s", tt.pid, diff)
		}
	}
}

func TestFDSize(t *testing.T) {
	tests := []struct {
		fds  []FD
		want int
	}{
		{nil, 64},
		{[]FD{{63, "x"}}, 64},
		{[]FD{{64, "x"}}, 128},
		{[]FD{{1000, "x"}, {3, "y"}}, 1024},
		{[]FD{{-3, "x"}}, 64},
	}
	for _, tt := range tests {
		if got := fdSize(&Proc{State: 'S', FDs: tt.fds}); got != tt.want {
			t.Errorf("fdSize(%v) = %d, want %d", tt.fds, got, tt.want)
		}
	}
}
