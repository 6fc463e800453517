package proc

import (
	"encoding/binary"
	"sync"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/ipc"
	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/mm"
)

// Resource limits (getrlimit, setrlimit, prlimit64). Every process has its
// own set, copied from its parent when it is created (spawn and vfork) and
// kept across execve, as on Linux. The soft limit is the one enforced; it
// may be set anywhere up to the hard limit, and the hard limit may be
// lowered but never raised (EPERM: nobody holds CAP_SYS_RESOURCE here).
//
// Enforced: RLIMIT_AS and RLIMIT_DATA (mmap, brk, mprotect), RLIMIT_NPROC
// (live descendants, see admitProcess), and Valence's own resources
// numbered after Linux's (ipc.Rlimit*): the bytes of memory objects a
// process created, its threads, and its handle table. RLIMIT_NOFILE
// (1024), RLIMIT_STACK (8 MiB) and ipc.RlimitHandles (4096) are fixed by
// the kernel's tables and can only be "set" to their value. The rest are
// stored and reported but have nothing to act on (no core dumps, no
// writable files, no real-time scheduling, no CPU-time accounting yet).

// numLimits is the number of resources, Linux's and Valence's.
const numLimits = ipc.RlimitHandles + 1

type rlimit struct{ cur, max uint64 }

type limits [numLimits]rlimit

const rlimInf = linux.RLimInfinity

// fixedLimits are the resources whose value the kernel's tables fix.
var fixedLimits = [numLimits]bool{
	linux.RLIMIT_NOFILE: true,
	linux.RLIMIT_STACK:  true,
	ipc.RlimitHandles:   true,
}

// System-wide caps, sized from the kernel's reserve (sizeCaps): the kernel
// structures of maxProcs processes with maxThreads threads between them
// fit in three quarters of the reserve, so that no number of processes and
// threads the limits admit can exhaust the kernel's heap even when user
// memory has taken everything else.
var (
	capsOnce   sync.Once
	maxProcs   int
	maxThreads int
)

// Bounds of the system-wide caps, whatever the memory size.
const (
	minProcs   = 64
	maxProcCap = 32768
	// threadsPerProc is what a process is assumed to have on average
	// when the reserve is shared out (a Go program at rest has 4 to 6).
	threadsPerProc = 4
	// defaultThreads is the default (soft and hard) RLIMIT of threads per
	// process: more than any Go program we run needs, a small part of the
	// system's threads.
	defaultThreads = 1024
)

func sizeCaps() {
	capsOnce.Do(func() {
		budget := mm.ReserveBytes() * 3 / 4
		n := int(budget / (processCost + threadsPerProc*threadCost))
		n = max(minProcs, min(n, maxProcCap))
		maxProcs, maxThreads = n, n*threadsPerProc
	})
}

// defaultLimits are the first process's limits, which every other process
// inherits.
func defaultLimits() limits {
	sizeCaps()
	var l limits
	for r := range l {
		l[r] = rlimit{rlimInf, rlimInf}
		if d, found := linux.InitRLimits[r]; found {
			l[r] = rlimit{d.Cur, d.Max}
		}
	}
	l[linux.RLIMIT_NOFILE] = rlimit{kfile.MaxFDs, kfile.MaxFDs}
	l[linux.RLIMIT_STACK] = rlimit{stackSize, stackSize}
	l[linux.RLIMIT_AS] = rlimit{rlimInf, rlimInf}
	l[linux.RLIMIT_DATA] = rlimit{rlimInf, rlimInf}
	l[linux.RLIMIT_NPROC] = rlimit{uint64(maxProcs), uint64(maxProcs)}
	l[ipc.RlimitMemObjects] = rlimit{rlimInf, rlimInf}
	t := uint64(min(defaultThreads, maxThreads))
	l[ipc.RlimitThreads] = rlimit{t, t}
	l[ipc.RlimitHandles] = rlimit{maxHandles, maxHandles}
	return l
}

// limit returns p's soft limit on resource r.
func (p *Process) limit(r int) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lim[r].cur
}

// sysPrlimit64 implements prlimit64(2): pid 0 or the caller's own, or a
// descendant of the caller (anyone else: EPERM).
func sysPrlimit64(c *call) result {
	target := c.p
	if pid := int(c.i32(0)); pid != 0 && pid != c.p.PID {
		q, found := Lookup(pid)
		if !found || q == nil {
			return fail(errno.ESRCH)
		}
		if !q.descendantOf(c.p) {
			return fail(errno.EPERM)
		}
		target = q
	}
	r := uint64(uint32(c.arg(1))) // an unsigned int in the C prototype
	if r >= numLimits {
		return fail(errno.EINVAL)
	}
	var set *rlimit
	if c.arg(2) != 0 {
		var b [16]byte
		if err := c.as().CopyIn(c.arg(2), b[:]); err != nil {
			return fail(errno.EFAULT)
		}
		set = &rlimit{binary.LittleEndian.Uint64(b[0:]), binary.LittleEndian.Uint64(b[8:])}
	}
	target.mu.Lock()
	old := target.lim[r]
	if set != nil {
		if e := checkLimit(old, *set, fixedLimits[r]); e != 0 {
			target.mu.Unlock()
			return fail(e)
		}
		target.lim[r] = *set
	}
	target.mu.Unlock()
	if c.arg(3) != 0 {
		var b [16]byte
		binary.LittleEndian.PutUint64(b[0:], old.cur)
		binary.LittleEndian.PutUint64(b[8:], old.max)
		return copyOutStruct(c, c.arg(3), b[:])
	}
	return ok0()
}

// checkLimit says whether a limit at old may become set: the soft limit
// at most the hard one (EINVAL), the hard one never raised (EPERM, before
// anything else, as Linux checks it), and a fixed resource only "set" to
// its value (EINVAL).
func checkLimit(old, set rlimit, fixed bool) errno.Errno {
	switch {
	case set.cur > set.max:
		return errno.EINVAL
	case set.max > old.max:
		return errno.EPERM
	case fixed && set != old:
		return errno.EINVAL
	}
	return 0
}

// sysGetrlimit implements getrlimit(2).
func sysGetrlimit(c *call) result {
	c.args = [6]uint64{0, c.args[0], 0, c.args[1]}
	return sysPrlimit64(c)
}

// sysSetrlimit implements setrlimit(2).
func sysSetrlimit(c *call) result {
	c.args = [6]uint64{0, c.args[0], c.args[1], 0}
	return sysPrlimit64(c)
}

// vmLimitsFinite reports whether RLIMIT_AS or RLIMIT_DATA is set, so that
// mappings need checking at all.
func (p *Process) vmLimitsFinite() (as, data uint64, finite bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	as, data = p.lim[linux.RLIMIT_AS].cur, p.lim[linux.RLIMIT_DATA].cur
	return as, data, as != rlimInf || data != rlimInf
}

// checkVM reports ENOMEM if mapping length bytes (replacing whatever is in
// [addr, addr+length) when fixed) would take p past RLIMIT_AS, or, for
// writable memory, RLIMIT_DATA, as Linux's may_expand_vm does. The caller
// holds p.vmMu, so that the check and the mapping are one step.
func (p *Process) checkVM(as *mm.AddressSpace, addr, length uint64, writable, fixed bool) errno.Errno {
	asLim, dataLim, finite := p.vmLimitsFinite()
	if !finite || length == 0 || length > mm.UserMax {
		return 0 // nothing to check, or a request Map refuses anyway
	}
	length = pageUpU(length)
	cur := as.Usage(mm.UserMin, mm.UserMax, stackTop-stackSize, stackTop)
	var old mm.VMUsage
	if fixed && addr+length > addr {
		old = as.Usage(addr, addr+length, stackTop-stackSize, stackTop)
	}
	if cur.Total-old.Total+length > asLim {
		return errno.ENOMEM
	}
	if writable && cur.Data-old.Data+length > dataLim {
		return errno.ENOMEM
	}
	return 0
}

// checkProtect reports ENOMEM if making [addr, addr+length) writable
// would take p past RLIMIT_DATA (the private pages not yet writable
// become data).
func (p *Process) checkProtect(as *mm.AddressSpace, addr, length uint64) errno.Errno {
	_, dataLim, finite := p.vmLimitsFinite()
	if !finite || dataLim == rlimInf || addr+pageUpU(length) <= addr {
		return 0
	}
	cur := as.Usage(mm.UserMin, mm.UserMax, stackTop-stackSize, stackTop)
	r := as.Usage(addr, addr+pageUpU(length), stackTop-stackSize, stackTop)
	if cur.Data+(r.Private-r.Data) > dataLim {
		return errno.ENOMEM
	}
	return 0
}
