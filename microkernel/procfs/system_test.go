package procfs

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSystemFiles(t *testing.T) {
	tests := []struct {
		rel  string
		src  Source
		want string
	}{
		{"meminfo", newFake(), "" +
			"MemTotal:        1014776 kB\n" +
			"MemFree:          500000 kB\n" +
			"MemAvailable:     800000 kB\n" +
			"Buffers:            1000 kB\n" +
			"Cached:           200000 kB\n" +
			"SwapCached:            0 kB\n" +
			"SwapTotal:             0 kB\n" +
			"SwapFree:              0 kB\n" +
			"Dirty:                 0 kB\n" +
			"Writeback:             0 kB\n" +
			"AnonPages:        283776 kB\n" +
			"Mapped:                0 kB\n" +
			"Shmem:                 0 kB\n" +
			"KReclaimable:          0 kB\n" +
			"Slab:              30000 kB\n" +
			"SReclaimable:          0 kB\n" +
			"SUnreclaim:        30000 kB\n" +
			"KernelStack:           0 kB\n" +
			"PageTables:            0 kB\n" +
			"CommitLimit:      507388 kB\n" +
			"Committed_AS:     283776 kB\n"},
		{"uptime", newFake(), "12.34 20.67\n"},
		{"loadavg", newFake(), "0.00 0.00 0.00 1/10 100\n"},
		{"stat", newFake(), "" +
			"cpu  401 0 0 2067 0 0 0 0 0 0\n" +
			"cpu0 200 0 0 1033 0 0 0 0 0 0\n" +
			"cpu1 200 0 0 1033 0 0 0 0 0 0\n" +
			"intr 0\nctxt 0\n" +
			"btime 1700000000\n" +
			"processes 100\nprocs_running 1\nprocs_blocked 1\n" +
			"softirq 0 0 0 0 0 0 0 0 0 0 0\n"},
		{"mounts", newFake(), "" +
			"initfs / initfs ro 0 0\n" +
			"dev /dev devtmpfs rw,nosuid 0 0\n" +
			"proc /proc proc rw 0 0\n" +
			"nvme0n1 /mnt/my\\040disk valfs rw 0 0\n" +
			"none /srv\\011x\\134y 9p rw 0 0\n"},
		{"filesystems", newFake(), "nodev\tinitfs\nnodev\tdevtmpfs\nnodev\tproc\n\tvalfs\nnodev\t9p\n"},
		{"cpuinfo", newFake(), "" +
			"processor\t: 0\n" +
			"vendor_id\t: GenuineIntel\n" +
			"cpu family\t: 6\n" +
			"model\t\t: 85\n" +
			"model name\t: QEMU Virtual CPU\n" +
			"stepping\t: 7\n" +
			"cpu MHz\t\t: 2999.998\n" +
			"fpu\t\t: yes\nfpu_exception\t: yes\nwp\t\t: yes\n" +
			"flags\t\t: fpu sse2\n" +
			"bogomips\t: 6000.00\n" +
			"power management:\n" +
			"\n" +
			"processor\t: 1\n" +
			"vendor_id\t: unknown\n" +
			"cpu family\t: 0\n" +
			"model\t\t: 0\n" +
			"model name\t: unknown\n" +
			"stepping\t: 0\n" +
			"cpu MHz\t\t: 1000.000\n" +
			"fpu\t\t: yes\nfpu_exception\t: yes\nwp\t\t: yes\n" +
			"flags\t\t:\n" +
			"bogomips\t: 2000.00\n" +
			"power management:\n" +
			"\n"},
		{"version", newFake(), "Valence version unknown (" + runtime.Version() + ")\n"},
		{"version", releaseSource{newFake()}, "Valence version 0.1.0 (" + runtime.Version() + ")\n"},
		{"42/mounts", newFake(), string(renderMounts(newFake()))},
		{"self/mounts", newFake(), string(renderMounts(newFake()))},
	}
	for _, tt := range tests {
		got := read(t, tt.src, 42, tt.rel)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.rel, diff)
		}
	}
}

// TestEdgeValues checks the system files on an empty or odd Source:
// no processes, no CPUs, counters that do not add up.
func TestEdgeValues(t *testing.T) {
	empty := &fakeSource{
		mem:  Mem{Total: 4 << 20, Free: 5 << 20, Kernel: 1 << 20}, // more free than total
		up:   -time.Second,
		idle: time.Hour, // more idle than uptime
		boot: time.Unix(0, 0),
	}
	tests := []struct {
		rel  string
		want string
	}{
		{"uptime", "0.00 3600.00\n"},
		{"loadavg", "0.00 0.00 0.00 0/0 0\n"},
		{"stat", "cpu  0 0 0 360000 0 0 0 0 0 0\ncpu0 0 0 0 360000 0 0 0 0 0 0\n" +
			"intr 0\nctxt 0\nbtime 0\nprocesses 0\nprocs_running 0\nprocs_blocked 0\n" +
			"softirq 0 0 0 0 0 0 0 0 0 0 0\n"},
		{"cpuinfo", ""},
		{"mounts", ""},
		{"filesystems", "nodev\tinitfs\nnodev\tdevtmpfs\nnodev\tproc\n\tvalfs\n"},
	}
	for _, tt := range tests {
		got := read(t, empty, 0, tt.rel)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.rel, diff)
		}
	}
	if got := read(t, empty, 0, "meminfo"); !strings.Contains(got, "\nAnonPages:             0 kB\n") {
		t.Errorf("meminfo with more free than total: AnonPages not 0:\n%s", got)
	}
}

// TestMeminfoForFree checks that meminfo has every key u-root's free
// requires, each as "Key: <number> kB".
func TestMeminfoForFree(t *testing.T) {
	got := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(read(t, newFake(), 1, "meminfo"), "\n"), "\n") {
		key, value, ok := strings.Cut(line, ":")
		f := strings.Fields(value)
		if !ok || len(f) != 2 || f[1] != "kB" || strings.Trim(f[0], "0123456789") != "" {
			t.Errorf("malformed meminfo line %q", line)
		}
		got[key] = true
	}
	for _, key := range []string{"MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached",
		"Shmem", "SReclaimable", "SwapTotal", "SwapFree"} {
		if !got[key] {
			t.Errorf("meminfo has no %s", key)
		}
	}
}

func TestMangle(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/plain", "/plain"},
		{"a b", `a\040b`},
		{"t\tn\nb\\", `t\011n\012b\134`},
		{"", ""},
	}
	for _, tt := range tests {
		if got := mangle(tt.in); got != tt.want {
			t.Errorf("mangle(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
