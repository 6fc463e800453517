package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"valence.dev/drivers/lib/devreg"
)

func TestLineDriver(t *testing.T) {
	tests := map[string]string{
		"nvmed: 00:03.0: nvme0: \"QEMU NVMe Ctrl\"":                                                        "nvmed",
		"pcid: nvmed (00:03.0) started: pid 8":                                                             "nvmed",
		"pcid: virtio-netd (00:04.0) exited: exit status":                                                  "virtio-netd",
		"pcid: ECAM at 0xb0000000, buses 00-ff":                                                            "",
		"pcid: 00:03.0 Non-Volatile memory controller [0108]: Red Hat, Inc. [1b36:0010] (rev 02) -> nvmed": "",
		"pcid: ready: 8 functions, 2 drivers started, 1 failed":                                            "",
		"panic: runtime error":                                                                             "panic",
		"no colon here":                                                                                    "",
		"two words: x":                                                                                     "",
		"":                                                                                                 "",
	}
	for line, want := range tests {
		if got := lineDriver(line); got != want {
			t.Errorf("lineDriver(%q) = %q, want %q", line, got, want)
		}
	}
}

type row struct {
	Name, State, LastExit string
	PID                   int32
	Restarts              int
}

func rows(tb *driverTable) []row {
	var out []row
	for _, r := range tb.sorted() {
		out = append(out, row{r.name, r.svcState(), r.lastExit, r.pid, r.restarts})
	}
	return out
}

// TestDriverTable follows pcid's list through a driver's death and
// restart: the row counts the restart and keeps the exit cause.
func TestDriverTable(t *testing.T) {
	nvme := func(pid int32, state string) devreg.Function {
		return devreg.Function{Addr: "00:03.0", Driver: "nvmed", PID: pid, Name: "nvme0", State: state}
	}
	net := devreg.Function{Addr: "00:04.0", Driver: "virtio-netd", PID: 9, Name: "net0", State: "running"}
	blk := func(addr string) devreg.Function {
		return devreg.Function{Addr: addr, Driver: "virtio-blkd", PID: 11, State: "running"}
	}
	bridge := devreg.Function{Addr: "00:1f.0", State: "no driver"}
	tb := newDriverTable()
	l := newLogs()
	t0 := time.Unix(1000, 0)
	steps := []struct {
		fns  []devreg.Function
		want []row
	}{
		{[]devreg.Function{nvme(8, "running"), net, bridge},
			[]row{{"nvmed", "running", "", 8, 0}, {"virtio-netd", "running", "", 9, 0}}},
		{[]devreg.Function{nvme(0, "exited: killed by SIGKILL"), net},
			[]row{{"nvmed", "exited", "killed by SIGKILL", 0, 0}, {"virtio-netd", "running", "", 9, 0}}},
		{[]devreg.Function{nvme(12, "starting"), net},
			[]row{{"nvmed", "starting", "killed by SIGKILL", 12, 1}, {"virtio-netd", "running", "", 9, 0}}},
		{[]devreg.Function{nvme(12, "running"), net},
			[]row{{"nvmed", "running", "killed by SIGKILL", 12, 1}, {"virtio-netd", "running", "", 9, 0}}},
		// Died and restarted between two readings: the new pid tells.
		{[]devreg.Function{nvme(15, "running"), net},
			[]row{{"nvmed", "running", "killed by SIGKILL", 15, 2}, {"virtio-netd", "running", "", 9, 0}}},
		// Two functions of one driver are told apart by address.
		{[]devreg.Function{nvme(15, "running"), net, blk("00:05.0"), blk("00:06.0")},
			[]row{{"nvmed", "running", "killed by SIGKILL", 15, 2}, {"virtio-netd", "running", "", 9, 0},
				{"virtio-blkd@00:05.0", "running", "", 11, 0}, {"virtio-blkd@00:06.0", "running", "", 11, 0}}},
	}
	for i, s := range steps {
		tb.update(s.fns, t0.Add(time.Duration(i)*time.Second), l)
		if diff := cmp.Diff(s.want, rows(tb)); diff != "" {
			t.Errorf("step %d (-want +got):\n%s", i, diff)
		}
	}
	if got := l.lines("nvmed"); len(got) != 2 {
		t.Errorf("nvmed's log has %q, want its two restarts", got)
	}
	if tb.find("virtio-blkd@00:06.0") == nil || tb.find("nosuch") != nil {
		t.Errorf("find")
	}
}

func TestDriverTableBounded(t *testing.T) {
	tb := newDriverTable()
	var fns []devreg.Function
	for i := 0; i < 3*maxDrivers; i++ {
		fns = append(fns, devreg.Function{Addr: fmt.Sprintf("%02x:00.0", i), Driver: "d", PID: 1, State: "running"})
	}
	tb.update(fns, time.Now(), newLogs())
	if len(tb.rows) != maxDrivers {
		t.Errorf("%d rows, want %d", len(tb.rows), maxDrivers)
	}
}
