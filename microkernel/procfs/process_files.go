package procfs

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The renderers of /proc/<pid>/'s files, in the formats of proc(5) and
// Linux's fs/proc/array.c and fs/proc/base.c.

const (
	pageSize = 4096
	commLen  = 15 // TASK_COMM_LEN less its NUL

	// clockTick is the unit of the times in stat files: 1/USER_HZ
	// seconds, USER_HZ being 100 on Linux (gVisor's linux.ClockTick; not
	// imported, as that package would bring most of gVisor's
	// dependencies into this leaf).
	clockTick = 10 * time.Millisecond
)

// renderProcStat renders /proc/<pid>/stat: 52 fields separated by single
// spaces, the command name in parentheses and not escaped, as Linux's
// do_task_stat prints them (so a parser must look for the last ')').
// Times are in clock ticks (USER_HZ, 100 a second), vsize in bytes, rss
// in pages.
func renderProcStat(_ Source, p *Proc) []byte {
	vsize, rss := memory(p)
	b := make([]byte, 0, 256)
	b = strconv.AppendInt(b, int64(p.PID), 10)
	b = append(b, " ("...)
	b = append(b, comm(p.Name)...)
	b = append(b, ") "...)
	b = append(b, state(p.State))
	fields := [...]string{
		itoa(p.PPID), itoa(p.PGID), itoa(p.SID), // 4-6 ppid pgrp session
		utoa(p.TTY), itoa(p.TPGID), // 7-8 tty_nr tpgid
		"0",                // 9 flags
		"0", "0", "0", "0", // 10-13 minflt cminflt majflt cmajflt
		ticks(p.UTime), ticks(p.STime), // 14-15 utime stime
		"0", "0", // 16-17 cutime cstime
		"20", "0", // 18-19 priority nice: SCHED_OTHER at nice 0
		itoa(threads(p)),        // 20 num_threads
		"0",                     // 21 itrealvalue
		ticks(p.Start),          // 22 starttime
		utoa(vsize),             // 23 vsize, bytes
		utoa(rss / pageSize),    // 24 rss, pages
		"18446744073709551615",  // 25 rsslim: RLIM_INFINITY
		"0", "0", "0", "0", "0", // 26-30 startcode endcode startstack kstkesp kstkeip
		"0", "0", "0", "0", // 31-34 signal blocked sigignore sigcatch (obsolete)
		"0", "0", "0", // 35-37 wchan nswap cnswap
		"17",          // 38 exit_signal: SIGCHLD
		"0", "0", "0", // 39-41 processor rt_priority policy
		"0", "0", "0", // 42-44 delayacct_blkio_ticks guest_time cguest_time
		"0", "0", "0", "0", "0", "0", "0", // 45-51 start_data .. env_end
		"0", // 52 exit_code
	}
	for _, f := range fields {
		b = append(b, ' ')
		b = append(b, f...)
	}
	return append(b, '\n')
}

// renderStatus renders /proc/<pid>/status: "Key:\tvalue" lines in
// Linux's order, with the name escaped (a newline as \n, a backslash as
// \\) as proc_task_name does, and the Vm lines in kB, right-aligned to 8
// columns. A process that has exited has no Vm lines.
func renderStatus(_ Source, p *Proc) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "Name:\t%s\n", escapeName(comm(p.Name)))
	fmt.Fprintf(&b, "Umask:\t%04o\n", p.Umask&0o777)
	fmt.Fprintf(&b, "State:\t%s\n", stateName(p.State))
	fmt.Fprintf(&b, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", p.PID, p.PID, p.PPID)
	fmt.Fprintf(&b, "Uid:\t%d\t%d\t%d\t%d\n", p.UID, p.UID, p.UID, p.UID)
	fmt.Fprintf(&b, "Gid:\t%d\t%d\t%d\t%d\n", p.GID, p.GID, p.GID, p.GID)
	fmt.Fprintf(&b, "FDSize:\t%d\n", fdSize(p))
	b.WriteString("Groups:\t\n")
	fmt.Fprintf(&b, "NStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n", p.PID, p.PID, p.PGID, p.SID)
	if !exited(p) {
		vsize, rss := memory(p)
		fmt.Fprintf(&b, "VmSize:\t%8d kB\nVmRSS:\t%8d kB\n", vsize>>10, rss>>10)
	}
	fmt.Fprintf(&b, "Threads:\t%d\n", threads(p))
	return []byte(b.String())
}

// renderStatm renders /proc/<pid>/statm: size resident shared text lib
// data dt, in pages. Valence tracks only the first two.
func renderStatm(_ Source, p *Proc) []byte {
	vsize, rss := memory(p)
	return fmt.Appendf(nil, "%d %d 0 0 0 0 0\n", vsize/pageSize, rss/pageSize)
}

// renderCmdline renders /proc/<pid>/cmdline: each argument followed by a
// NUL. A process that has exited shows nothing.
func renderCmdline(_ Source, p *Proc) []byte {
	if exited(p) {
		return nil
	}
	return nulTerminated(p.Cmdline)
}

// renderEnviron renders /proc/<pid>/environ like cmdline.
func renderEnviron(_ Source, p *Proc) []byte {
	if exited(p) {
		return nil
	}
	return nulTerminated(p.Environ)
}

// renderComm renders /proc/<pid>/comm: the name, unescaped, and a newline.
func renderComm(_ Source, p *Proc) []byte {
	return []byte(comm(p.Name) + "\n")
}

func nulTerminated(ss []string) []byte {
	var b []byte
	for _, s := range ss {
		b = append(b, s...)
		b = append(b, 0)
	}
	return b
}

// comm is the name as Linux keeps it: up to a NUL, at most 15 bytes.
func comm(name string) string {
	if i := strings.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	if len(name) > commLen {
		name = name[:commLen]
	}
	return name
}

var nameEscaper = strings.NewReplacer("\n", `\n`, `\`, `\\`)

func escapeName(s string) string { return nameEscaper.Replace(s) }

// stateNames are Linux's task_state_array, by letter.
var stateNames = map[byte]string{
	'R': "R (running)",
	'S': "S (sleeping)",
	'D': "D (disk sleep)",
	'T': "T (stopped)",
	't': "t (tracing stop)",
	'X': "X (dead)",
	'Z': "Z (zombie)",
	'P': "P (parked)",
	'I': "I (idle)",
}

func state(s byte) byte {
	if _, ok := stateNames[s]; ok {
		return s
	}
	return '?'
}

func stateName(s byte) string {
	if n, ok := stateNames[s]; ok {
		return n
	}
	return "? (unknown)"
}

// memory returns p's vsize and rss in bytes: 0 once p has exited, since
// Linux shows a task without an mm so.
func memory(p *Proc) (vsize, rss uint64) {
	if exited(p) {
		return 0, 0
	}
	return p.VSize, p.RSS
}

func threads(p *Proc) int { return max(p.Threads, 1) }

// fdSize approximates Linux's FDSize, the size of the descriptor table:
// 64 slots to begin with, doubled until the highest descriptor fits.
func fdSize(p *Proc) int {
	if exited(p) {
		return 0
	}
	n := 64
	for _, fd := range openFDs(p) {
		for fd.Num >= n {
			n *= 2
		}
	}
	return n
}

// ticks converts d to clock ticks (USER_HZ), truncating; negative is 0.
func ticks(d time.Duration) string {
	return utoa(uint64(max(d, 0) / clockTick))
}

func itoa(n int) string    { return strconv.Itoa(n) }
func utoa(n uint64) string { return strconv.FormatUint(n, 10) }
