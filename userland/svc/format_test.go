package main

import (
	"bytes"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"valence.dev/userland/init/control"
)

func TestParseCommand(t *testing.T) {
	v := control.Version
	tests := []struct {
		args    []string
		want    control.Request
		wantErr string
	}{
		{nil, control.Request{Op: control.OpList}, ""},
		{[]string{"list"}, control.Request{Version: v, Op: control.OpList}, ""},
		{[]string{"start", "netd"}, control.Request{Version: v, Op: control.OpStart, Name: "netd"}, ""},
		{[]string{"stop", "netd"}, control.Request{Version: v, Op: control.OpStop, Name: "netd"}, ""},
		{[]string{"restart", "fsd"}, control.Request{Version: v, Op: control.OpRestart, Name: "fsd"}, ""},
		{[]string{"log", "nvmed"}, control.Request{Version: v, Op: control.OpLog, Name: "nvmed"}, ""},
		{[]string{"kill", "netd"}, control.Request{Version: v, Op: control.OpKill, Name: "netd", Signal: int32(syscall.SIGTERM)}, ""},
		{[]string{"kill", "netd", "KILL"}, control.Request{Version: v, Op: control.OpKill, Name: "netd", Signal: 9}, ""},
		{[]string{"kill", "netd", "sigusr1"}, control.Request{Version: v, Op: control.OpKill, Name: "netd", Signal: int32(syscall.SIGUSR1)}, ""},
		{[]string{"kill", "netd", "9"}, control.Request{Version: v, Op: control.OpKill, Name: "netd", Signal: 9}, ""},
		{[]string{"kill", "netd", "0"}, control.Request{}, "outside 1-64"},
		{[]string{"kill", "netd", "BOGUS"}, control.Request{}, `unknown signal "BOGUS"`},
		{[]string{"list", "x"}, control.Request{}, "list takes no arguments"},
		{[]string{"stop"}, control.Request{}, "stop needs a service name"},
		{[]string{"stop", "a", "b"}, control.Request{}, "too many arguments"},
		{[]string{"frob", "a"}, control.Request{}, `unknown command "frob"`},
		{[]string{"stop", strings.Repeat("n", 100)}, control.Request{}, "name of 100 bytes"},
	}
	for _, tc := range tests {
		got, err := parseCommand(tc.args)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parseCommand(%q) error %v, want %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseCommand(%q): %v", tc.args, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("parseCommand(%q) (-want +got):\n%s", tc.args, diff)
		}
	}
}

func TestPrintList(t *testing.T) {
	var b bytes.Buffer
	printList(&b, []control.Status{
		{Name: "pcid", State: "running", PID: 2, UptimeMS: 75_000, Supervisor: "init"},
		{Name: "nvmed", State: "running", PID: 8, Restarts: 1, UptimeMS: 3_000, LastExit: "killed by SIGKILL", Supervisor: "pcid"},
		{Name: "netd", State: "restarting", Restarts: 2, LastExit: "killed\nby SIGKILL", Supervisor: "init"},
	})
	want := `NAME   STATE       PID  RESTARTS  UPTIME  BY    LAST EXIT
pcid   running     2    0         1m15s   init  -
nvmed  running     8    1         3s      pcid  killed by SIGKILL
netd   restarting  -    2         -       init  killed by SIGKILL
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestUptime(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "-", 45 * time.Second: "45s", 187 * time.Second: "3m07s", 2*time.Hour + 5*time.Minute: "2h05m",
		76 * time.Hour: "3d04h",
	} {
		if got := uptime(d); got != want {
			t.Errorf("uptime(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		s    control.Status
		want string
	}{
		{control.Status{Name: "netd", State: "running", PID: 40, Restarts: 1, LastExit: "killed by SIGKILL"}, "netd: running (pid 40, restarts 1)"},
		{control.Status{Name: "netd", State: "stopped", LastExit: "killed by SIGTERM"}, "netd: stopped (last exit: killed by SIGTERM)"},
		{control.Status{Name: "x", State: "skipped"}, "x: skipped"},
	}
	for _, tc := range tests {
		if got := describe(tc.s); got != tc.want {
			t.Errorf("describe(%+v) = %q, want %q", tc.s, got, tc.want)
		}
	}
}
