package procfs

import (
	"fmt"
	"runtime"
	"time"
)

// The renderers of /proc's system files that count time, memory and
// processes, in the formats of proc(5) and Linux's fs/proc/*.c.

// renderMeminfo renders /proc/meminfo: "Key:" padded to 16 columns, the
// value in kB right-aligned to 8, as Linux's show_val_kb prints it. Swap
// is always 0. Three lines are derived: AnonPages (and Committed_AS) is
// what is neither free, buffers, cache nor kernel, i.e. program memory;
// the kernel's own memory is shown as unreclaimable Slab; CommitLimit is
// half of RAM, Linux's default overcommit_ratio with no swap.
func renderMeminfo(src Source) []byte {
	m := src.Mem()
	anon := saturatingSub(m.Total, m.Free, m.Buffers, m.Cached, m.Kernel)
	lines := []struct {
		key   string
		bytes uint64
	}{
		{"MemTotal", m.Total},
		{"MemFree", m.Free},
		{"MemAvailable", m.Available},
		{"Buffers", m.Buffers},
		{"Cached", m.Cached},
		{"SwapCached", 0},
		{"SwapTotal", 0},
		{"SwapFree", 0},
		{"Dirty", 0},
		{"Writeback", 0},
		{"AnonPages", anon},
		{"Mapped", 0},
		{"Shmem", 0},
		{"KReclaimable", 0},
		{"Slab", m.Kernel},
		{"SReclaimable", 0},
		{"SUnreclaim", m.Kernel},
		{"KernelStack", 0},
		{"PageTables", 0},
		{"CommitLimit", m.Total / 2},
		{"Committed_AS", anon},
	}
	var b []byte
	for _, l := range lines {
		b = fmt.Appendf(b, "%-16s%8d kB\n", l.key+":", l.bytes>>10)
	}
	return b
}

func saturatingSub(a uint64, bs ...uint64) uint64 {
	for _, b := range bs {
		if b >= a {
			return 0
		}
		a -= b
	}
	return a
}

// renderUptime renders /proc/uptime: seconds since boot and idle seconds
// summed over CPUs, each with two decimals, truncated as Linux does.
func renderUptime(src Source) []byte {
	up, idle := src.Uptime()
	return fmt.Appendf(nil, "%s %s\n", centiseconds(up), centiseconds(idle))
}

func centiseconds(d time.Duration) string {
	d = max(d, 0)
	return fmt.Sprintf("%d.%02d", d/time.Second, d%time.Second/(10*time.Millisecond))
}

// census is what /proc/loadavg and /proc/stat count over the processes.
type census struct {
	running, blocked int // processes in state R, D
	threads          int // over all processes
	lastPID          int // the highest pid
}

func takeCensus(src Source) census {
	var c census
	for _, pid := range livePIDs(src) {
		p, ok := src.Process(pid)
		if !ok {
			continue
		}
		switch p.State {
		case 'R':
			c.running++
		case 'D':
			c.blocked++
		}
		c.threads += threads(&p)
		c.lastPID = pid
	}
	return c
}

// renderLoadavg renders /proc/loadavg. Valence keeps no load averages, so
// they are 0.00; then running/total scheduling entities (here: processes
// in state R over all threads) and the last pid handed out (here: the
// highest live pid).
func renderLoadavg(src Source) []byte {
	c := takeCensus(src)
	return fmt.Appendf(nil, "0.00 0.00 0.00 %d/%d %d\n", c.running, c.threads, c.lastPID)
}

// renderStat renders /proc/stat. Valence does not account CPU time per
// CPU and per mode, so the cpu lines are derived from uptime: idle is the
// idle time, busy (all CPUs' elapsed time less idle) is shown as user, and
// each cpuN line has an equal share, so the counters grow monotonically
// as tools that take differences (top) expect. "processes" (forks since
// boot) is the highest live pid, a lower bound as pids are handed out in
// increasing order.
func renderStat(src Source) []byte {
	up, idle := src.Uptime()
	n := max(len(src.CPUs()), 1)
	busy := max(up*time.Duration(n)-idle, 0)
	idle = max(idle, 0)
	c := takeCensus(src)

	b := statCPU(nil, "cpu ", busy, idle)
	for i := range n {
		b = statCPU(b, fmt.Sprintf("cpu%d", i), busy/time.Duration(n), idle/time.Duration(n))
	}
	b = fmt.Appendf(b, "intr 0\nctxt 0\nbtime %d\n", src.Boot().Unix())
	b = fmt.Appendf(b, "processes %d\nprocs_running %d\nprocs_blocked %d\n", c.lastPID, c.running, c.blocked)
	return append(b, "softirq 0 0 0 0 0 0 0 0 0 0 0\n"...)
}

// statCPU appends one cpu line: user nice system idle iowait irq softirq
// steal guest guest_nice, in clock ticks. The total line's name is "cpu "
// so that it is followed by two spaces, as on Linux.
func statCPU(b []byte, name string, user, idle time.Duration) []byte {
	return fmt.Appendf(b, "%s %d 0 0 %d 0 0 0 0 0 0\n", name, user/clockTick, idle/clockTick)
}

// renderVersion renders /proc/version as Linux's banner, "<sysname>
// version <release> (<compiler>)", with the release from a Source that is
// a Releaser.
func renderVersion(src Source) []byte {
	release := "unknown"
	if r, ok := src.(Releaser); ok {
		release = r.Release()
	}
	return fmt.Appendf(nil, "Valence version %s (%s)\n", release, runtime.Version())
}

// renderCPUInfo renders /proc/cpuinfo as Linux's x86 show_cpuinfo does:
// "key\t: value" lines (tabs so the colons align at column 16), one
// block per CPU, each ending with a blank line. bogomips is twice the
// clock, as Linux computes it from the TSC.
func renderCPUInfo(src Source) []byte {
	var b []byte
	for i, c := range src.CPUs() {
		b = fmt.Appendf(b, "processor\t: %d\n", i)
		b = fmt.Appendf(b, "vendor_id\t: %s\n", orUnknown(c.Vendor))
		b = fmt.Appendf(b, "cpu family\t: %d\n", c.Family)
		b = fmt.Appendf(b, "model\t\t: %d\n", c.ModelNum)
		b = fmt.Appendf(b, "model name\t: %s\n", orUnknown(c.Model))
		b = fmt.Appendf(b, "stepping\t: %d\n", c.Stepping)
		b = fmt.Appendf(b, "cpu MHz\t\t: %.3f\n", c.MHz)
		b = append(b, "fpu\t\t: yes\nfpu_exception\t: yes\nwp\t\t: yes\nflags\t\t:"...)
		for _, f := range c.Flags {
			b = append(b, ' ')
			b = append(b, f...)
		}
		b = fmt.Appendf(b, "\nbogomips\t: %.2f\n", 2*c.MHz)
		b = append(b, "power management:\n\n"...)
	}
	return b
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
