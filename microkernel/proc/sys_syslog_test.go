package proc

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSyslogRecords(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", ""},
		{"lines", "[    0.1] a\n[    0.2] b\n", "<6>[    0.1] a\n<6>[    0.2] b\n"},
		{"wrapped inside a line", "ial] a\n[    0.2] b\n", "<6>[    0.2] b\n"},
		{"unfinished last line", "[    0.1] a\n[    0.2] b", "<6>[    0.1] a\n<6>[    0.2] b"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, string(records([]byte(tt.in)))); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestSyslogTailAndHead(t *testing.T) {
	recs := []byte("<6>one\n<6>two\n<6>three\n")
	tails := []struct {
		n    int
		want string
	}{
		{100, "<6>one\n<6>two\n<6>three\n"},
		{len("<6>two\n<6>three\n"), "<6>two\n<6>three\n"},
		{len("<6>two\n<6>three\n") - 1, "<6>three\n"},
		{4, "ree\n"}, // a line longer than the buffer: its end
	}
	for _, tt := range tails {
		if diff := cmp.Diff(tt.want, string(tailRecords(recs, tt.n))); diff != "" {
			t.Errorf("tailRecords(%d) (-want +got):\n%s", tt.n, diff)
		}
	}
	raw := []byte("one\ntwo\nthree\n")
	heads := []struct {
		n    int
		want string
		used int
	}{
		{100, "<6>one\n<6>two\n<6>three\n", len(raw)},
		{len("<6>one\n<6>two\n"), "<6>one\n<6>two\n", len("one\ntwo\n")},
		{len("<6>one\n") + 3, "<6>one\n", len("one\n")},
		{5, "<6>on", 2}, // the first line cut: the rest comes next
		{2, "<6", 0},
	}
	for _, tt := range heads {
		out, used := headRecords(raw, tt.n)
		if diff := cmp.Diff(tt.want, string(out)); diff != "" || used != tt.used {
			t.Errorf("headRecords(%d) = %q, %d; want %q, %d", tt.n, out, used, tt.want, tt.used)
		}
	}
}
