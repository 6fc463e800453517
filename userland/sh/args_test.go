package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name    string
		argv    []string
		want    options
		wantErr bool
	}{
		{"no operands reads stdin", []string{"sh"}, options{argv0: "sh", stdin: true}, false},
		{"login by argv0", []string{"-sh"}, options{argv0: "-sh", login: true, stdin: true}, false},
		{"script and args", []string{"sh", "f.sh", "a", "b"}, options{argv0: "f.sh", script: "f.sh", params: []string{"a", "b"}}, false},
		{"-c with name and args", []string{"sh", "-c", "echo $0 $1", "me", "x"},
			options{argv0: "me", command: "echo $0 $1", hasCommand: true, params: []string{"x"}}, false},
		{"-c alone", []string{"sh", "-c", "true"}, options{argv0: "sh", command: "true", hasCommand: true}, false},
		{"combined flags", []string{"sh", "-ec", "true"}, options{argv0: "sh", command: "true", hasCommand: true, set: []string{"-e"}}, false},
		{"-s with args", []string{"sh", "-s", "a"}, options{argv0: "sh", stdin: true, params: []string{"a"}}, false},
		{"-i -l", []string{"sh", "-il"}, options{argv0: "sh", interactive: true, login: true, stdin: true}, false},
		{"-o and +x", []string{"sh", "-o", "pipefail", "+x", "f"}, options{argv0: "f", script: "f", set: []string{"-o", "pipefail", "+x"}}, false},
		{"-- ends options", []string{"sh", "--", "-f"}, options{argv0: "-f", script: "-f"}, false},
		{"-c without string", []string{"sh", "-c"}, options{}, true},
		{"-o without name", []string{"sh", "-o"}, options{}, true},
		{"unsupported flag", []string{"sh", "-C"}, options{}, true},
		{"empty argv", nil, options{argv0: "sh", stdin: true}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseArgs(tc.argv)
			if (err != nil) != tc.wantErr {
				t.Fatalf("parseArgs(%q) error %v, want error %v", tc.argv, err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(options{})); diff != "" {
				t.Errorf("parseArgs(%q) (-want +got):\n%s", tc.argv, diff)
			}
		})
	}
}

func TestParseUmask(t *testing.T) {
	tests := []struct {
		in      string
		old     int
		want    int
		wantErr bool
	}{
		{"022", 0, 0o022, false},
		{"0777", 0, 0o777, false},
		{"1000", 0, 0, true},
		{"u=rwx,g=rx,o=", 0, 0o027, false},
		{"g-w", 0o002, 0o022, false},
		{"o+r", 0o077, 0o073, false},
		{"a=", 0, 0o777, false},
		{"=rx", 0, 0o222, false},
		{"u", 0, 0, true},
		{"q=r", 0, 0, true},
		{"u*r", 0, 0, true},
	}
	for _, tc := range tests {
		got, err := parseUmask(tc.in, tc.old)
		if (err != nil) != tc.wantErr || err == nil && got != tc.want {
			t.Errorf("parseUmask(%q, %o) = %o, %v; want %o, error %v", tc.in, tc.old, got, err, tc.want, tc.wantErr)
		}
	}
	if got := symbolicMask(0o027); got != "u=rwx,g=rx,o=" {
		t.Errorf("symbolicMask(027) = %q", got)
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]int{"TERM": 15, "sigkill": 9, "SIGINT": 2, "hup": 1, "0": 0, "9": 9, "CONT": 18} {
		got, err := parseSignal(in)
		if err != nil || int(got) != want {
			t.Errorf("parseSignal(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"NOPE", "-1", "65", ""} {
		if _, err := parseSignal(bad); err == nil {
			t.Errorf("parseSignal(%q) accepted", bad)
		}
	}
}
