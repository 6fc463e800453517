package procfs

import (
	"maps"
	"slices"
	"time"
)

// fakeSource is a Source over fixed data.
type fakeSource struct {
	procs     map[int]Proc
	ghosts    []int // listed by PIDs but gone when asked for
	mem       Mem
	up, idle  time.Duration
	mounts    []Mount
	cpus      []CPU
	boot      time.Time
	release   string
	processes int // calls to Process, to check that Lookup asks only as needed
}

func (f *fakeSource) PIDs() []int {
	return append(slices.Collect(maps.Keys(f.procs)), f.ghosts...)
}

func (f *fakeSource) Process(pid int) (Proc, bool) {
	f.processes++
	p, ok := f.procs[pid]
	return p, ok
}

func (f *fakeSource) Mem() Mem                               { return f.mem }
func (f *fakeSource) Uptime() (time.Duration, time.Duration) { return f.up, f.idle }
func (f *fakeSource) Mounts() []Mount                        { return f.mounts }
func (f *fakeSource) CPUs() []CPU                            { return f.cpus }
func (f *fakeSource) Boot() time.Time                        { return f.boot }

// releaseSource is a fakeSource that is also a Releaser.
type releaseSource struct{ *fakeSource }

func (r releaseSource) Release() string { return r.release }

// The processes of newFake.
var (
	initProc = Proc{
		PID: 1, PPID: 0, PGID: 1, SID: 1, TPGID: -1,
		Name: "init", State: 'S',
		Cmdline: []string{"/bin/init"},
		Exe:     "/bin/init", Cwd: "/",
		Threads: 5,
		Umask:   0o022,
		VSize:   8 << 20, RSS: 2 << 20,
		Start: 30 * time.Millisecond,
		UTime: 1230 * time.Millisecond, STime: 450 * time.Millisecond,
		FDs: []FD{
			{2, "/dev/console"}, {0, "/dev/console"}, {1, "/dev/console"},
		},
		Environ: []string{"HOME=/", "TERM=linux"},
	}
	shellProc = Proc{
		PID: 42, PPID: 1, PGID: 42, SID: 1, TTY: 5<<8 | 1, TPGID: 100,
		Name: "sh", State: 'R',
		Cmdline: []string{"sh", "-c", "echo hi"},
		Exe:     "/bin/sh", Cwd: "/home/user",
		Threads: 3,
		UID:     1000, GID: 100,
		Umask: 0o077,
		VSize: 123456789, RSS: 5 << 20,
		Start: 2500 * time.Millisecond,
		UTime: 999 * time.Millisecond, STime: 10 * time.Millisecond,
		FDs: []FD{
			{0, "/dev/console"}, {1, "pipe:[12]"}, {2, "/dev/console"},
			{10, "anon_inode:[eventfd]"}, {100, "/etc/motd"},
			{-1, "/bogus"}, {10, "/duplicate"},
		},
	}
	zombieProc = Proc{
		PID: 7, PPID: 1, PGID: 1, SID: 1, TPGID: -1,
		Name: "done", State: 'Z',
		Cmdline: []string{"done", "now"},
		Exe:     "/bin/done", Cwd: "/tmp",
		Threads: 1,
		VSize:   1 << 20, RSS: 1 << 20,
		Start: 5 * time.Second,
		UTime: 20 * time.Millisecond, STime: 30 * time.Millisecond,
		FDs: []FD{{0, "/dev/console"}},
	}
	oddProc = Proc{
		PID: 100, PPID: 42, PGID: 100, SID: 1, TTY: 5<<8 | 1, TPGID: 100,
		Name: "a b) c\\d\nlonger than fifteen", State: 'D',
		Cmdline: []string{"odd"},
		Threads: 0,
	}
)

func newFake() *fakeSource {
	return &fakeSource{
		procs: map[int]Proc{
			1: initProc, 42: shellProc, 7: zombieProc, 100: oddProc,
		},
		mem: Mem{
			Total: 1014776 << 10, Free: 500000 << 10, Available: 800000 << 10,
			Buffers: 1000 << 10, Cached: 200000 << 10, Kernel: 30000 << 10,
		},
		up:   12*time.Second + 345*time.Millisecond,
		idle: 20*time.Second + 678*time.Millisecond,
		mounts: []Mount{
			{Source: "initfs", Target: "/", FSType: "initfs", Options: "ro"},
			{Source: "dev", Target: "/dev", FSType: "devtmpfs", Options: "rw,nosuid"},
			{Source: "proc", Target: "/proc", FSType: "proc"},
			{Source: "nvme0n1", Target: "/mnt/my disk", FSType: "valfs", Options: "rw"},
			{Target: "/srv\tx\\y", FSType: "9p", Options: "rw"},
		},
		cpus: []CPU{
			{Vendor: "GenuineIntel", Model: "QEMU Virtual CPU", MHz: 2999.998, Flags: []string{"fpu", "sse2"}, Family: 6, ModelNum: 85, Stepping: 7},
			{MHz: 1000},
		},
		ghosts:  []int{13, 0, -5, 1}, // a race, nonsense, a duplicate
		boot:    time.Unix(1700000000, 999),
		release: "0.1.0",
	}
}
