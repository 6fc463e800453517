package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"valence.dev/drivers/lib/devreg"
)

// Functions as pcid lists them.
var (
	hostBridge = devreg.Function{Addr: "00:00.0", State: "no driver"}
	nvmeUp     = devreg.Function{Addr: "00:03.0", Driver: "nvmed", PID: 7, Name: "nvme0", State: "running"}
	nvmeComing = devreg.Function{Addr: "00:03.0", Driver: "nvmed", PID: 7, State: "starting"}
	nvmeDied   = devreg.Function{Addr: "00:03.0", Driver: "nvmed", State: "exited: exit status 1"}
	nvmeFailed = devreg.Function{Addr: "00:03.0", Driver: "nvmed", State: "failed: no /bin/nvmed"}
	vdaUp      = devreg.Function{Addr: "00:04.0", Driver: "virtio-blkd", PID: 8, Name: "vda", State: "running"}
	netComing  = devreg.Function{Addr: "00:05.0", Driver: "virtio-netd", State: "starting"}
	netUp      = devreg.Function{Addr: "00:05.0", Driver: "virtio-netd", PID: 9, Name: "net0", State: "running"}
)

func TestPickDisk(t *testing.T) {
	auto := []string{"nvme0", "vda"}
	tests := []struct {
		name  string
		names []string
		fns   []devreg.Function
		want  diskPick
	}{
		{"nvme0 up: taken at once", auto, []devreg.Function{hostBridge, nvmeUp, netComing}, diskPick{"nvme0", true}},
		{"nvme0 up, vda too", auto, []devreg.Function{nvmeUp, vdaUp}, diskPick{"nvme0", true}},
		{"vda up, a driver still starting: nvme0 may come", auto, []devreg.Function{vdaUp, netComing}, diskPick{}},
		{"vda up, nvmed about to be restarted", auto, []devreg.Function{nvmeDied, vdaUp}, diskPick{}},
		{"vda up, everything settled", auto, []devreg.Function{hostBridge, vdaUp, netUp}, diskPick{"vda", true}},
		{"vda up, nvmed failed for good", auto, []devreg.Function{nvmeFailed, vdaUp}, diskPick{"vda", true}},
		{"drivers starting", auto, []devreg.Function{hostBridge, nvmeComing}, diskPick{}},
		{"no disk at all", auto, []devreg.Function{hostBridge, netUp}, diskPick{Done: true}},
		{"no functions", auto, nil, diskPick{Done: true}},
		{"named disk up", []string{"vda"}, []devreg.Function{nvmeComing, vdaUp}, diskPick{"vda", true}},
		{"named disk absent, others settled", []string{"nvme1"}, []devreg.Function{nvmeUp, vdaUp}, diskPick{Done: true}},
		{"a running driver of another name", []string{"nvme0"}, []devreg.Function{vdaUp}, diskPick{Done: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, pickDisk(tc.names, tc.fns)); diff != "" {
				t.Errorf("pickDisk (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBestRegistered(t *testing.T) {
	auto := []string{"nvme0", "vda"}
	tests := []struct {
		name string
		fns  []devreg.Function
		want string
	}{
		{"both", []devreg.Function{vdaUp, nvmeUp}, "nvme0"},
		{"vda only, nvmed still starting", []devreg.Function{nvmeComing, vdaUp}, "vda"},
		{"none", []devreg.Function{nvmeComing, netUp}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := bestRegistered(auto, tc.fns); got != tc.want {
				t.Errorf("bestRegistered = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNoDiskReason(t *testing.T) {
	tests := []struct {
		name   string
		names  []string
		fns    []devreg.Function
		waited bool
		want   string
	}{
		{"settled", []string{"nvme0", "vda"}, []devreg.Function{hostBridge, netUp}, false,
			"no driver registered nvme0 or vda"},
		{"timed out, with the drivers in trouble", []string{"nvme0"}, []devreg.Function{nvmeDied, netComing, vdaUp}, true,
			"no driver registered nvme0 within 10s (nvmed (00:03.0) exited: exit status 1; virtio-netd (00:05.0) starting)"},
		{"failed driver", []string{"nvme0"}, []devreg.Function{nvmeFailed}, false,
			"no driver registered nvme0 (nvmed (00:03.0) failed: no /bin/nvmed)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := noDiskReason(tc.names, tc.fns, tc.waited); got != tc.want {
				t.Errorf("noDiskReason =\n\t%q\nwant\n\t%q", got, tc.want)
			}
		})
	}
}
