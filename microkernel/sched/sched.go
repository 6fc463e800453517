package sched

import (
	"valence.dev/microkernel/arch/amd64"
)

// MaxThreads bounds the number of kernel threads, including idle.
const MaxThreads = 256

// Quantum is the time slice after which a running thread is preempted if
// another is runnable.
const Quantum = 10_000_000 // ns

// State is a thread's scheduling state.
type State uint8

// Thread states.
const (
	Free State = iota
	Runnable
	Running
	Blocked
)

// Thread is one kernel thread.
type Thread struct {
	Frame  amd64.Frame
	FX     amd64.FXState
	FSBase uint64
	TID    int32
	State  State

	next int32 // run queue link

	// WaitChan is what a blocked thread waits for (a futex key, an event);
	// zero when not waiting on a channel.
	WaitChan uint64
	// Deadline is the monotonic time at which a blocked thread wakes with
	// TimeoutResult in RAX; zero means never.
	Deadline      int64
	TimeoutResult uint64
	// RestartRIP, when set, makes WakeChan restart the system call the
	// thread blocked in (RIP back at the SYSCALL, RAX = RestartRAX) instead
	// of returning 0, so it re-evaluates what woke it (epoll_pwait).
	// Timeouts and signals do not restart.
	RestartRIP uint64
	RestartRAX uint64

	// Signal state, owned by package rt.
	SigMask, SigPending uint64
	AltStackSP          uint64
	AltStackSize        uint64
	AltStackFlags       int32
	ClearChildTID       uint64

	// Accounting.
	Switches uint64
	RunNanos int64
}

var (
	threads    [MaxThreads]Thread
	cur        int32 // index of the running thread
	runHead    int32 = -1
	runTail    int32 = -1
	nextTID    int32 = 1
	sliceStart int64
	lastSwitch int64
	nthreads   int32
	idleNanos  int64
)

// Init makes the caller (the boot thread, which becomes the runtime's first
// M) thread 1 and prepares the idle thread to run idleRIP on idleStack with
// FS base idleFS.
func Init(idleRIP, idleStack, idleFS uint64, bootFS uint64) {
	idle := &threads[0]
	idle.State = Runnable
	idle.TID = 0
	idle.Frame = amd64.Frame{RIP: idleRIP, CS: amd64.KernelCS, RFLAGS: amd64.FlagIF | 2,
		RSP: idleStack, SS: amd64.KernelDS}
	idle.FX.InitFX()
	idle.FSBase = idleFS
	boot := &threads[1]
	boot.State = Running
	boot.TID = nextTID
	boot.FSBase = bootFS
	nextTID++
	cur = 1
	nthreads = 1
}

// Current returns the running thread.
func Current() *Thread { return &threads[cur] }

// CurrentIndex returns the running thread's slot.
func CurrentIndex() int32 { return cur }

// IsIdle reports whether the idle thread is running.
func IsIdle() bool { return cur == 0 }

// Get returns the thread in slot i.
func Get(i int32) *Thread { return &threads[i] }

// Count returns the number of live threads, idle excluded.
func Count() int { return int(nthreads) }

// IdleNanos returns the time spent in the idle thread.
func IdleNanos() int64 { return idleNanos }

// Lookup returns the slot of the live thread with the given TID.
func Lookup(tid int32) (int32, bool) {
	if tid <= 0 {
		return 0, false
	}
	for i := int32(1); i < MaxThreads; i++ {
		if threads[i].State != Free && threads[i].TID == tid {
			return i, true
		}
	}
	return 0, false
}

func enqueue(i int32) {
	t := &threads[i]
	t.State = Runnable
	t.next = -1
	if runTail < 0 {
		runHead = i
	} else {
		threads[runTail].next = i
	}
	runTail = i
}

func dequeue() int32 {
	i := runHead
	if i < 0 {
		return -1
	}
	runHead = threads[i].next
	if runHead < 0 {
		runTail = -1
	}
	threads[i].next = -1
	return i
}

// Spawn creates a runnable thread that starts with the register state in f,
// FPU state fx and FS base fs. It returns the new thread's TID.
func Spawn(f *amd64.Frame, fx *amd64.FXState, fs uint64) (int32, bool) {
	for i := int32(1); i < MaxThreads; i++ {
		t := &threads[i]
		if t.State != Free {
			continue
		}
		*t = Thread{}
		t.Frame = *f
		t.FX = *fx
		t.FSBase = fs
		t.TID = nextTID
		nextTID++
		nthreads++
		enqueue(i)
		return t.TID, true
	}
	return 0, false
}

// save copies the running thread's live state out of the trap frame.
func save(f *amd64.Frame, fx *amd64.FXState) {
	t := &threads[cur]
	t.Frame = *f
	t.FX = *fx
}

// load makes thread i current and puts its state in the trap frame.
func load(f *amd64.Frame, fx *amd64.FXState, i int32, now int64) {
	prev := &threads[cur]
	if cur == 0 {
		idleNanos += now - lastSwitch
	} else {
		prev.RunNanos += now - lastSwitch
	}
	lastSwitch = now
	cur = i
	t := &threads[i]
	if i != 0 {
		t.State = Running
	}
	t.Switches++
	*f = t.Frame
	*fx = t.FX
	sliceStart = now
}

// next picks the thread to run when the current one stops: the head of the
// run queue, or idle.
func next() int32 {
	if i := dequeue(); i >= 0 {
		return i
	}
	return 0
}

// Block stops the current thread until Wake or WakeChan names it or, if
// deadline is non-zero, until the monotonic clock reaches deadline, in which
// case it resumes with timeoutResult in RAX. The thread's frame must already
// hold the state to resume with.
func Block(f *amd64.Frame, fx *amd64.FXState, ch uint64, deadline int64, timeoutResult uint64, now int64) {
	save(f, fx)
	t := &threads[cur]
	t.State = Blocked
	t.WaitChan = ch
	t.Deadline = deadline
	t.TimeoutResult = timeoutResult
	load(f, fx, next(), now)
}

// Exit ends the current thread and switches to the next.
func Exit(f *amd64.Frame, fx *amd64.FXState, now int64) {
	t := &threads[cur]
	t.State = Free
	t.WaitChan = 0
	nthreads--
	load(f, fx, next(), now)
}

// Yield moves the current thread to the back of the run queue if another
// thread is runnable.
func Yield(f *amd64.Frame, fx *amd64.FXState, now int64) {
	if runHead < 0 {
		return
	}
	save(f, fx)
	if cur != 0 {
		enqueue(cur)
	}
	load(f, fx, next(), now)
}

// Wake makes blocked thread i runnable with rax as its system call result.
func Wake(i int32, rax uint64) {
	t := &threads[i]
	if t.State != Blocked {
		return
	}
	t.Frame.RAX = rax
	t.WaitChan = 0
	t.Deadline = 0
	t.RestartRIP = 0
	enqueue(i)
}

// WakeChan wakes up to max threads blocked on ch, oldest slot first, with
// RAX 0, and returns how many it woke.
func WakeChan(ch uint64, max int) int {
	if ch == 0 {
		return 0 // channel 0 means "no channel" (a plain sleep)
	}
	n := 0
	for i := int32(1); i < MaxThreads && n < max; i++ {
		t := &threads[i]
		if t.State == Blocked && t.WaitChan == ch {
			if t.RestartRIP != 0 {
				t.Frame.RIP = t.RestartRIP
				Wake(i, t.RestartRAX)
			} else {
				Wake(i, 0)
			}
			n++
		}
	}
	return n
}

// Tick runs on every timer interrupt: it wakes threads whose deadline has
// passed and preempts the current thread when its slice is used up.
func Tick(f *amd64.Frame, fx *amd64.FXState, now int64) {
	for i := int32(1); i < MaxThreads; i++ {
		t := &threads[i]
		if t.State == Blocked && t.Deadline != 0 && now >= t.Deadline {
			Wake(i, t.TimeoutResult)
		}
	}
	if cur != 0 && now-sliceStart >= Quantum {
		Yield(f, fx, now)
	}
}

// Reschedule leaves the idle thread if something became runnable; trap
// handlers call it before returning.
func Reschedule(f *amd64.Frame, fx *amd64.FXState, now int64) {
	if cur == 0 && runHead >= 0 {
		save(f, fx)
		load(f, fx, next(), now)
	}
}
