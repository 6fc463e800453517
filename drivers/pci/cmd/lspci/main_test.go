package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/drivers/lib/devreg"
)

func TestLine(t *testing.T) {
	nvme := "00:04.0 Non-Volatile memory controller [0108]: Red Hat, Inc. [1b36:0010] (rev 02)"
	tests := []struct {
		name string
		f    devreg.Function
		want string
	}{
		{"no driver", devreg.Function{Addr: "00:00.0", Line: "00:00.0 Host bridge [0600]: Intel Corporation [8086:29c0]", State: "no driver"},
			"00:00.0 Host bridge [0600]: Intel Corporation [8086:29c0]"},
		{"running", devreg.Function{Addr: "00:04.0", Line: nvme, Driver: "nvmed", PID: 5, Name: "nvme0", State: "running"},
			nvme + " -> nvmed [running, pid 5, nvme0]"},
		{"starting", devreg.Function{Addr: "00:04.0", Line: nvme, Driver: "nvmed", PID: 5, State: "starting"},
			nvme + " -> nvmed [starting, pid 5]"},
		{"failed", devreg.Function{Addr: "00:03.0", Line: "x", Driver: "virtio-netd", State: "failed: no /bin/virtio-netd"},
			"x -> virtio-netd [failed: no /bin/virtio-netd]"},
		{"exited", devreg.Function{Addr: "00:04.0", Line: nvme, Driver: "nvmed", State: "exited: exit status 1"},
			nvme + " -> nvmed [exited: exit status 1]"},
		{"line rebuilt from the IDs", devreg.Function{Addr: "00:04.0", Vendor: 0x1b36, Device: 0x0010, Class: 1, Sub: 8, ProgIF: 2, State: "no driver"},
			"00:04.0 Non-Volatile memory controller [0108]: Red Hat, Inc. [1b36:0010]"},
		{"unknown vendor and class", devreg.Function{Addr: "01:00.0", Vendor: 0xabcd, Device: 1, Class: 0x77, Sub: 1},
			"01:00.0 Class 77 [7701]: Device [abcd:0001]"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, Line(tt.f)); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, diff)
		}
	}
}
