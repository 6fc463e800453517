package procfs

import "time"

// Source is what the kernel provides. Lookup calls it on every lookup and
// caches nothing, so each call must return the current state. Its methods
// may be called concurrently by several Lookups and must not retain or
// modify the values they return after returning them.
type Source interface {
	// PIDs returns the live processes, zombies included, in any order.
	PIDs() []int
	// Process returns a snapshot of process pid, or false if there is
	// no such process (any more).
	Process(pid int) (Proc, bool)
	// Mem returns the machine's memory counters.
	Mem() Mem
	// Uptime returns the time since boot and the idle time summed over
	// all CPUs, as /proc/uptime shows them.
	Uptime() (up, idle time.Duration)
	// Mounts returns the mount table, in mount order.
	Mounts() []Mount
	// CPUs returns one entry per CPU, in CPU number order.
	CPUs() []CPU
	// Boot returns the wall-clock time of boot (btime in /proc/stat).
	Boot() time.Time
}

// Releaser is optionally implemented by a Source to name the kernel
// release that /proc/version shows (uname's release, e.g. "0.1.0").
// Without it, /proc/version shows "unknown".
type Releaser interface {
	Release() string
}

// Proc is a snapshot of one process.
type Proc struct {
	PID, PPID, PGID, SID int
	// TTY is the controlling terminal's device number in stat's tty_nr
	// encoding (major<<8 | minor for small numbers), 0 for none; TPGID is
	// that terminal's foreground process group (-1 without a terminal).
	TTY   uint64
	TPGID int

	// Name is the command name (comm). Only its first 15 bytes, up to
	// any NUL, are shown, as Linux's TASK_COMM_LEN allows.
	Name string
	// State is the state letter Linux uses: 'R' running, 'S' sleeping,
	// 'D' disk sleep, 'T' stopped, 't' tracing stop, 'Z' zombie,
	// 'X' dead, 'P' parked, 'I' idle. Anything else is shown as '?'.
	State byte

	Cmdline []string // argv
	Exe     string   // absolute path of the executable; "" hides exe
	Cwd     string   // absolute path of the working directory; "" hides cwd

	Threads    int // at least 1 is shown
	UID, GID   uint32
	Umask      uint32        // shown in status; 0 shows as 0000
	VSize, RSS uint64        // bytes
	Start      time.Duration // since boot

	UTime, STime time.Duration // CPU time used in user and kernel mode

	FDs     []FD     // open files, any order
	Environ []string // "KEY=value" strings; may be nil
}

// FD is one open file descriptor.
type FD struct {
	Num int
	// Path is what readlink of /proc/<pid>/fd/<Num> shows: an absolute
	// path ("/etc/motd", "/dev/console") or an anonymous object
	// ("pipe:[12]", "socket:[7]", "anon_inode:[eventfd]").
	Path string
}

// Mem is the machine's memory, in bytes.
type Mem struct {
	Total     uint64 // usable RAM
	Free      uint64 // not used at all
	Available uint64 // what could be given to programs without swapping
	Buffers   uint64 // block-device buffers
	Cached    uint64 // file cache
	Kernel    uint64 // kernel-owned memory (heap, page tables, stacks)
}

// Mount is one mount, as /proc/mounts shows it.
type Mount struct {
	Source  string // device or server ("nvme0n1", "initfs"); "" shows "none"
	Target  string // absolute mount point
	FSType  string // "valfs", "initfs", "proc", ...
	Options string // comma-separated, starting with rw or ro; "" shows "rw"
}

// CPU describes one processor, as /proc/cpuinfo shows it.
type CPU struct {
	Vendor string // CPUID vendor string, "GenuineIntel"
	Model  string // brand string, "Intel(R) Xeon(R) ..."
	MHz    float64
	Flags  []string // lowercase CPUID feature names, "fpu", "sse2", ...

	Family, ModelNum, Stepping int
}
