package proc

import (
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/ipc"
	"valence.dev/microkernel/clock"
	"valence.dev/microkernel/klog"
	"valence.dev/microkernel/mm"
	"valence.dev/microkernel/obj"
)

// Memory accounting (docs/capabilities.md, "Memory accounting").
//
// Every process is charged for what it makes the machine hold: the frames of
// its address space (pages and page tables; a vfork child runs in its
// parent's, which stays charged to the parent), the memory objects it
// created until they are freed (whoever holds them by then), and an
// estimate of the kernel heap its kernel objects take: the process itself,
// its threads, its handles and the endpoints it serves. The charge serves
// the out-of-memory killer, which takes the biggest; the limits (limits.go)
// bound each kind; and the kernel's reserve (mm/reserve.go) keeps user
// memory from ever taking the frames the kernel's own heap needs.

// Estimates of the kernel heap a kernel object costs: a process (Process,
// FD table, futex and handle tables, maps) with its first thread, each
// further thread (Thread, UserContext with its FXSAVE area, and its
// goroutine's stack, which a system call deepens to 16-32 KiB), a handle
// (a caps node and slot), an endpoint. Measured under QEMU with the live
// kernel heap (MemInfo.KernelLive): 70-124 KiB per sleeping Go process
// with its five threads (the spawn-flood attack test, over 300 of them),
// about 200 bytes per endpoint (what endpoint-churn leaked per iteration
// before endpoints were freed). Rounded up; a thread's share is a guess
// within the process figure.
const (
	processCost  = 32 << 10
	threadCost   = 24 << 10
	handleCost   = 256
	endpointCost = 512
)

// account is the part of a process's charge that outlives it: memory
// objects stay charged to their creator until they are freed, and the
// data in pipes it created until it is read or the pipe goes, and what
// its AF_UNIX sockets sent until it is read.
type account struct {
	memObjects atomic.Int64 // bytes of live memory objects it created
	pipeBytes  atomic.Int64 // bytes held in the buffers of pipes it created
	// sockBytes are the bytes its AF_UNIX sockets' sends hold in queues
	// until read; unixInFlight the descriptors they carry meanwhile.
	sockBytes    atomic.Int64
	unixInFlight atomic.Int64
}

// chargeMemory charges size bytes of memory objects against limit; it
// reports false, charging nothing, if that would exceed it.
func (a *account) chargeMemory(size, limit uint64) bool {
	for {
		cur := a.memObjects.Load()
		if uint64(cur)+size > limit || uint64(cur)+size < uint64(cur) {
			return false
		}
		if a.memObjects.CompareAndSwap(cur, cur+int64(size)) {
			return true
		}
	}
}

// charge returns what p is charged for now, in bytes.
func (p *Process) charge() uint64 {
	p.mu.Lock()
	as := p.as
	ownAS := p.vforkDone == nil // a vfork child runs in its parent's memory
	n := uint64(processCost) + uint64(len(p.threads))*threadCost + uint64(len(p.endpoints))*endpointCost
	handles := p.handles
	acct := p.acct
	p.mu.Unlock()
	if as != nil && ownAS {
		n += uint64(as.Pages()) * mm.PageSize
	}
	if handles != nil {
		n += uint64(handles.Len()) * handleCost
	}
	if acct != nil {
		n += uint64(acct.memObjects.Load()) + uint64(max(acct.pipeBytes.Load(), 0)) + uint64(max(acct.sockBytes.Load(), 0))
	}
	return n
}

// Process and thread counts, guarded by tableMu: every live process and
// zombie counts until it is reaped, towards the system-wide cap and the
// RLIMIT_NPROC of each of its ancestors (a process's "user", until there
// are users, is the tree it started).
var (
	liveProcs   int
	liveThreads atomic.Int64
)

// admitProcess counts a new child of parent (nil for the first process)
// or refuses it: EAGAIN at the system-wide cap or at the RLIMIT_NPROC of
// parent or any ancestor (treeParent, which unlike parent survives the
// ancestor's death), ENOMEM when the kernel heap cannot take another
// process or user memory is down to spawnHeadroom.
func admitProcess(parent *Process) errno.Errno {
	sizeCaps()
	if e := admitObject(processCost); e != 0 {
		return e
	}
	if parent != nil && mm.UserFreeFrames()*mm.PageSize < spawnHeadroom() {
		return errno.ENOMEM
	}
	var limits []uint64 // read before tableMu: p.mu is never taken inside it
	for a := parent; a != nil; a = a.treeParent {
		limits = append(limits, a.limit(linux.RLIMIT_NPROC))
	}
	tableMu.Lock()
	defer tableMu.Unlock()
	if liveProcs >= maxProcs {
		return errno.EAGAIN
	}
	i := 0
	for a := parent; a != nil; a = a.treeParent {
		if uint64(a.descendants) >= limits[i] {
			return errno.EAGAIN
		}
		i++
	}
	liveProcs++
	for a := parent; a != nil; a = a.treeParent {
		a.descendants++
	}
	return 0
}

// uncount undoes admitProcess when p is reaped. tableMu must be held.
func (p *Process) uncount() {
	if !p.counted {
		return
	}
	p.counted = false
	liveProcs--
	for a := p.treeParent; a != nil; a = a.treeParent {
		a.descendants--
	}
}

// threadStarted and threadEnded count the threads of all processes; a
// thread that ends also gives back the number newThread reserved for it
// in the process table (a process's first thread has its PID, which
// reap frees).
func threadStarted() { liveThreads.Add(1) }

func (t *Thread) threadEnded() {
	liveThreads.Add(-1)
	if t.TID != t.proc.PID {
		tableMu.Lock()
		if q, used := procs[t.TID]; used && q == nil {
			delete(procs, t.TID)
		}
		tableMu.Unlock()
	}
}

// spawnHeadroom is the user memory that must be left for a new process to
// be admitted: a new process goes on allocating for a while after spawn
// returns (a Go program's runtime takes 2-3 MiB as it starts), so a spawn
// loop that took memory down to nothing would have its youngest children
// fault with nothing left, and the out-of-memory killer would end the
// loop by killing someone. Refusing the spawn instead (ENOMEM, as fork
// does) leaves room for the children already started: 1/32 of memory, at
// least 16 MiB.
func spawnHeadroom() uint64 {
	fl := mm.Lock()
	total := mm.FrameStats().Managed * mm.PageSize
	mm.Unlock(fl)
	return max(16<<20, total/32)
}

// admitThread refuses a new thread for p with EAGAIN at its thread limit
// or the system-wide cap, and ENOMEM when the kernel heap cannot take it.
func admitThread(p *Process) errno.Errno {
	sizeCaps()
	p.mu.Lock()
	n, limit := uint64(len(p.threads)), p.lim[ipc.RlimitThreads].cur
	p.mu.Unlock()
	if n >= limit || liveThreads.Load() >= int64(maxThreads) {
		return errno.EAGAIN
	}
	if !mm.KernelCanGrow(threadCost) {
		return errno.ENOMEM
	}
	return 0
}

// admitObject reports ENOMEM when the kernel heap cannot take a kernel
// object of about bytes for a process.
func admitObject(bytes uint64) errno.Errno {
	if !mm.KernelCanGrow(bytes) {
		tidyKernelHeap()
		if !mm.KernelCanGrow(bytes) {
			return errno.ENOMEM
		}
	}
	return 0
}

// newMemoryObject creates a memory object charged to p, within p's
// memory-object limit.
func (p *Process) newMemoryObject(size uint64) (*obj.Memory, errno.Errno) {
	if size == 0 || size > obj.MaxMemory {
		return nil, errno.EINVAL
	}
	pages := pageUpU(size)
	acct := p.acct
	if !acct.chargeMemory(pages, p.limit(ipc.RlimitMemObjects)) {
		return nil, errno.ENOMEM
	}
	m, err := obj.NewMemory(size, func() { acct.memObjects.Add(-int64(pages)) })
	if err != nil {
		acct.memObjects.Add(-int64(pages))
		if err == obj.ErrNoMemory {
			return nil, errno.ENOMEM
		}
		return nil, errno.EINVAL
	}
	return m, 0
}

// endpointClosed forgets an endpoint that lost its last capability: no one
// can call or serve it any more, so it dies (failing any call still queued)
// and leaves its owner's list, which would otherwise keep it forever.
func endpointClosed(ep *obj.Endpoint) {
	ep.Kill()
	owner, found := Lookup(ep.Owner)
	if !found || owner == nil {
		return
	}
	owner.mu.Lock()
	for i, e := range owner.endpoints {
		if e == ep {
			last := len(owner.endpoints) - 1
			owner.endpoints[i] = owner.endpoints[last]
			owner.endpoints[last] = nil
			owner.endpoints = owner.endpoints[:last]
			break
		}
	}
	owner.mu.Unlock()
}

// The out-of-memory killer. When a user allocation finds no frame outside
// the kernel's reserve, the kernel first gives back the free space in its
// own heap, then kills the process with the biggest charge (the faulting
// one only if it is the biggest), passing over the first process and
// those marked essential while anything else is left, and waits for the
// victim to let go of its memory before the allocation is retried.
var oom struct {
	lock    chan struct{} // held by the thread choosing a victim
	pending *Process      // the last victim, until it has ended
	lastGC  int64         // monotonic ns of the last tidyKernelHeap
}

func init() { oom.lock = make(chan struct{}, 1) }

// oomSlack is how many free user frames count as "memory is back": enough
// for a page and the tables that map it.
const oomSlack = 16

// victimWait bounds the wait for a victim to end: under TCG a process with
// much memory takes a while to tear down.
const victimWait = 10 * time.Second

// outOfMemory handles a user page fault at addr (or a signal frame that
// found no page) that found no frame. It returns true if the access should
// be retried (memory was freed, or the thread was interrupted: its process
// is exiting or a signal came, which the caller's loop handles); false
// means the faulting process itself was chosen and has been killed.
//
// It does not give up merely because a signal is pending, unlike
// canBlock: the signal may be the one whose frame needs the memory.
func (t *Thread) outOfMemory(addr uint64) bool {
	select {
	case <-t.intr: // stale: exit and new signals interrupt afresh
	default:
	}
	if t.proc.Exiting() { // (exit sets exiting before it interrupts)
		return true
	}
	select {
	case oom.lock <- struct{}{}:
	case <-t.intr:
		return true
	}
	defer func() { <-oom.lock }()
	if t.proc.Exiting() {
		return true // killed while waiting its turn: nothing to free for it
	}
	if mm.UserFreeFrames() >= oomSlack {
		return true // someone freed memory meanwhile
	}
	if v := oom.pending; v != nil {
		select {
		case <-v.dead:
			oom.pending = nil
			if mm.UserFreeFrames() >= oomSlack {
				return true
			}
		case <-t.intr:
			return true
		case <-time.After(victimWait):
			oom.pending = nil // stuck: choose another
		}
	}
	if tidyKernelHeap() && mm.UserFreeFrames() >= oomSlack {
		return true
	}
	v, size := chooseVictim()
	if v == nil {
		v, size = t.proc, t.proc.charge()
	}
	if v == t.proc {
		klog.Printf("proc: out of memory: killed pid %d (%s), %d KiB (it faulted at %#x)", v.PID, v.Name, size>>10, addr)
		v.Kill(linux.SIGKILL)
		return false
	}
	klog.Printf("proc: out of memory: killed pid %d (%s), %d KiB", v.PID, v.Name, size>>10)
	v.Kill(linux.SIGKILL)
	oom.pending = v
	select {
	case <-v.dead:
		oom.pending = nil
	case <-t.intr:
	case <-time.After(victimWait):
	}
	return true
}

// chooseVictim returns the live process with the biggest charge and the
// charge, preferring any ordinary process to the first one and to
// essential ones.
func chooseVictim() (*Process, uint64) {
	var cs []candidate
	for _, p := range List() {
		p.mu.Lock()
		skip := p.exiting || p.as == nil
		protected := p.first || p.essential
		p.mu.Unlock()
		if !skip {
			cs = append(cs, candidate{p, p.charge(), protected})
		}
	}
	c := pickVictim(cs)
	return c.p, c.charge
}

// candidate is a process the out-of-memory killer may take.
type candidate struct {
	p         *Process
	charge    uint64
	protected bool // the first process, or essential
}

// pickVictim returns the candidate with the biggest charge, an
// unprotected one if there is any (the zero candidate if cs is empty).
func pickVictim(cs []candidate) candidate {
	var best candidate
	for _, c := range cs {
		switch {
		case best.p == nil,
			best.protected && !c.protected,
			best.protected == c.protected && c.charge > best.charge:
			best = c
		}
	}
	return best
}

// tidyKernelHeap has the kernel's runtime collect and return its free heap
// pages to the frame allocator, at most once a second (it stops the world
// for a full collection). It reports whether it ran.
func tidyKernelHeap() bool {
	now := clock.Monotonic()
	last := atomic.LoadInt64(&oom.lastGC)
	if now-last < 1e9 || !atomic.CompareAndSwapInt64(&oom.lastGC, last, now) {
		return false
	}
	debug.FreeOSMemory()
	return true
}

// watchMemory runs for the kernel's lifetime: when free frames fall into
// the lower half of the reserve, where only the kernel heap can have taken
// them, it has the runtime give back what it can, so that garbage left by
// a burst of kernel objects does not sit on frames the kernel may need.
func watchMemory() {
	low := mm.ReserveBytes() / mm.PageSize / 2
	for {
		time.Sleep(100 * time.Millisecond)
		if mm.FreeFrames() < low {
			tidyKernelHeap()
		}
	}
}

var watchOnce sync.Once

// startMemoryWatch starts watchMemory once, with the first process, and
// logs the system-wide caps.
func startMemoryWatch() {
	watchOnce.Do(func() {
		sizeCaps()
		klog.Printf("proc: at most %d processes and %d threads (the kernel's reserve is %d MiB)",
			maxProcs, maxThreads, mm.ReserveBytes()>>20)
		go watchMemory()
	})
}

// kernelLive returns the live kernel heap as of the last collection.
func kernelLive() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// sysProcEssential implements valence_proc_essential(h, on): the process
// h names (RightManage) is taken by the out-of-memory killer only when
// nothing else is left. Only the first process, or an essential one, may
// mark others: otherwise any process could make its children immortal.
func sysProcEssential(c *call) result {
	q, _, e := lookup[*Process](c, 0, ipc.RightManage)
	if e != 0 {
		return fail(e)
	}
	c.p.mu.Lock()
	allowed := c.p.first || c.p.essential
	c.p.mu.Unlock()
	if !allowed {
		return fail(errno.EPERM)
	}
	q.mu.Lock()
	q.essential = c.arg(1) != 0
	q.mu.Unlock()
	return ok0()
}
