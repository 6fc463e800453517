package sched

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"valence.dev/microkernel/arch/amd64"
)

// The scheduler keeps its state in package variables and Init assumes their
// boot-time values (it does not reset nextTID or the table), so the tests
// live in package sched and restore those values directly.

const (
	testIdleRIP   = 0xFFFF_FFFF_8000_1000
	testIdleStack = 0xFFFF_8000_0010_0000
	testIdleFS    = 0x0000_7F00_0000_1D1E
	testBootFS    = 0x0000_7F00_0000_B007
)

// reset returns the scheduler to its boot-time state and calls Init.
func reset(t testing.TB) {
	t.Helper()
	threads = [MaxThreads]Thread{}
	cur = 0
	runHead, runTail = -1, -1
	nextTID = 1
	sliceStart, lastSwitch = 0, 0
	nthreads = 0
	idleNanos = 0
	Init(testIdleRIP, testIdleStack, testIdleFS, testBootFS)
}

// threadFrame is a recognizable register state for a thread tagged tag.
func threadFrame(tag uint64) amd64.Frame {
	return amd64.Frame{
		R15: tag, RBX: 0xB0B0_0000 + tag, RAX: 0xAAAA_0000 + tag,
		RIP: 0x40_0000 + tag*0x100, CS: amd64.KernelCS, RFLAGS: amd64.FlagIF | 2,
		RSP: 0xC000_0000 + tag*0x1_0000, SS: amd64.KernelDS,
	}
}

// threadFX is a recognizable FPU state for a thread tagged tag.
func threadFX(tag uint64) amd64.FXState {
	var fx amd64.FXState
	fx.InitFX()
	fx[10] = 0xF0F0_0000 + tag
	return fx
}

// cpu holds the trap frame and FPU state of whatever is running: the state
// the trap exit path would load.
type cpu struct {
	f  amd64.Frame
	fx amd64.FXState
}

// newCPU returns the live state of the boot thread right after Init.
func newCPU() *cpu { return &cpu{f: threadFrame(1), fx: threadFX(1)} }

// spawn creates a thread with the frame and FPU state of tag.
func spawn(t testing.TB, tag uint64) int32 {
	t.Helper()
	f, fx := threadFrame(tag), threadFX(tag)
	tid, ok := Spawn(&f, &fx, 0xF5_0000+tag)
	if !ok {
		t.Fatalf("Spawn(tag %d) failed", tag)
	}
	return tid
}

// slotOf returns the slot of a live tid or fails the test.
func slotOf(t testing.TB, tid int32) int32 {
	t.Helper()
	i, ok := Lookup(tid)
	if !ok {
		t.Fatalf("Lookup(%d) failed", tid)
	}
	return i
}

// runQueue walks the run queue and returns its slots in order.
func runQueue(t testing.TB) []int32 {
	t.Helper()
	var q []int32
	for i := runHead; i >= 0; i = threads[i].next {
		if len(q) > MaxThreads {
			t.Fatalf("run queue has a cycle: %v...", q[:10])
		}
		q = append(q, i)
	}
	return q
}

// runQueueTIDs returns the TIDs on the run queue in order.
func runQueueTIDs(t testing.TB) []int32 {
	t.Helper()
	var tids []int32
	for _, i := range runQueue(t) {
		tids = append(tids, threads[i].TID)
	}
	return tids
}

// currentTID is the running thread's TID, 0 for idle.
func currentTID() int32 {
	if IsIdle() {
		return 0
	}
	return Current().TID
}

func idleFrame() amd64.Frame {
	return amd64.Frame{RIP: testIdleRIP, CS: amd64.KernelCS, RFLAGS: amd64.FlagIF | 2,
		RSP: testIdleStack, SS: amd64.KernelDS}
}

func initFX() amd64.FXState {
	var fx amd64.FXState
	fx.InitFX()
	return fx
}

func TestInit(t *testing.T) {
	reset(t)
	if IsIdle() || CurrentIndex() == 0 {
		t.Fatalf("after Init the idle thread runs")
	}
	type view struct {
		TID    int32
		State  State
		FSBase uint64
	}
	if diff := cmp.Diff(view{TID: 1, State: Running, FSBase: testBootFS},
		view{Current().TID, Current().State, Current().FSBase}); diff != "" {
		t.Errorf("boot thread (-want +got):\n%s", diff)
	}
	if i, ok := Lookup(1); !ok || i != CurrentIndex() {
		t.Errorf("Lookup(1) = %d, %v; want %d, true", i, ok, CurrentIndex())
	}
	if Count() != 1 {
		t.Errorf("Count() = %d, want 1", Count())
	}
	if q := runQueue(t); len(q) != 0 {
		t.Errorf("run queue = %v, want empty", q)
	}

	idle := Get(0)
	type idleView struct {
		TID    int32
		Frame  amd64.Frame
		FX     amd64.FXState
		FSBase uint64
	}
	want := idleView{TID: 0, Frame: idleFrame(), FX: initFX(), FSBase: testIdleFS}
	if diff := cmp.Diff(want, idleView{idle.TID, idle.Frame, idle.FX, idle.FSBase}); diff != "" {
		t.Errorf("idle thread (-want +got):\n%s", diff)
	}
	if idle.State == Running || idle.State == Blocked {
		t.Errorf("idle thread state = %d while the boot thread runs", idle.State)
	}
	if _, ok := Lookup(0); ok {
		t.Errorf("Lookup(0) found a thread")
	}
}

func TestSpawn(t *testing.T) {
	for _, n := range []int{1, 2, 5, 20} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			reset(t)
			var want []int32
			for k := 0; k < n; k++ {
				tag := uint64(100 + k)
				f, fx := threadFrame(tag), threadFX(tag)
				tid, ok := Spawn(&f, &fx, 0xF5_0000+tag)
				if !ok {
					t.Fatalf("Spawn #%d failed", k)
				}
				if len(want) > 0 && tid <= want[len(want)-1] || tid <= 1 {
					t.Errorf("Spawn #%d returned TID %d after %v", k, tid, want)
				}
				want = append(want, tid)
				// The thread must hold copies, not the caller's variables.
				f.RIP, fx[10] = 0, 0
				th := Get(slotOf(t, tid))
				type view struct {
					TID    int32
					State  State
					Frame  amd64.Frame
					FX     amd64.FXState
					FSBase uint64
				}
				wantView := view{tid, Runnable, threadFrame(tag), threadFX(tag), 0xF5_0000 + tag}
				if diff := cmp.Diff(wantView, view{th.TID, th.State, th.Frame, th.FX, th.FSBase}); diff != "" {
					t.Errorf("spawned thread (-want +got):\n%s", diff)
				}
			}
			if diff := cmp.Diff(want, runQueueTIDs(t)); diff != "" {
				t.Errorf("run queue TIDs (-want +got):\n%s", diff)
			}
			if Count() != n+1 {
				t.Errorf("Count() = %d, want %d", Count(), n+1)
			}
			if currentTID() != 1 {
				t.Errorf("Spawn switched threads: current TID %d", currentTID())
			}
		})
	}
}

func TestYieldRoundRobin(t *testing.T) {
	for _, others := range []int{0, 1, 2, 4} {
		t.Run(fmt.Sprintf("%d others", others), func(t *testing.T) {
			reset(t)
			c := newCPU()
			order := []int32{1}
			live := map[int32]amd64.Frame{1: c.f} // state each thread resumes with
			liveFX := map[int32]amd64.FXState{1: c.fx}
			for k := 0; k < others; k++ {
				tid := spawn(t, uint64(10+k))
				order = append(order, tid)
				live[tid], liveFX[tid] = threadFrame(uint64(10+k)), threadFX(uint64(10+k))
			}
			now := int64(0)
			for step := 0; step < 3*len(order); step++ {
				from := currentTID()
				// The thread makes progress before it yields.
				c.f.RBX, c.fx[11] = uint64(1000+step), uint64(2000+step)
				live[from], liveFX[from] = c.f, c.fx
				now += 1000
				Yield(&c.f, &c.fx, now)

				to := order[(step+1)%len(order)]
				if got := currentTID(); got != to {
					t.Fatalf("step %d: after Yield current TID = %d, want %d", step, got, to)
				}
				if diff := cmp.Diff(live[to], c.f); diff != "" {
					t.Errorf("step %d: trap frame after Yield to %d (-want +got):\n%s", step, to, diff)
				}
				if c.fx != liveFX[to] {
					t.Errorf("step %d: FX state after Yield is not thread %d's", step, to)
				}
				if Current().State != Running {
					t.Errorf("step %d: current thread state %d, want Running", step, Current().State)
				}
				if from == to {
					continue
				}
				old := Get(slotOf(t, from))
				if diff := cmp.Diff(live[from], old.Frame); diff != "" {
					t.Errorf("step %d: saved frame of %d (-want +got):\n%s", step, from, diff)
				}
				if old.FX != liveFX[from] {
					t.Errorf("step %d: saved FX of %d differs", step, from)
				}
				if q := runQueueTIDs(t); old.State != Runnable || len(q) == 0 || q[len(q)-1] != from {
					t.Errorf("step %d: yielding thread %d state %d, run queue %v; want it Runnable at the tail",
						step, from, old.State, q)
				}
			}
		})
	}
}

// bootCh is the channel blockAll blocks the boot thread on.
const bootCh = 0xB00

// blockAll spawns one worker per entry of chans and blocks each on its
// channel (in spawn order) with RAX 202, after blocking the boot thread on
// bootCh. The idle thread runs afterwards. It returns the workers' TIDs and
// the frames they blocked with.
func blockAll(t *testing.T, c *cpu, chans []uint64) ([]int32, []amd64.Frame) {
	t.Helper()
	var tids []int32
	for k := range chans {
		tids = append(tids, spawn(t, uint64(10+k)))
	}
	Block(&c.f, &c.fx, bootCh, 0, 0, 10)
	var frames []amd64.Frame
	for k, ch := range chans {
		if got := currentTID(); got != tids[k] {
			t.Fatalf("worker %d: current TID %d, want %d", k, got, tids[k])
		}
		c.f.RAX = 202 // the system call number, replaced by the result on wake
		c.f.RDX = uint64(k)
		frames = append(frames, c.f)
		Block(&c.f, &c.fx, ch, 0, 0, int64(20+k))
	}
	if !IsIdle() {
		t.Fatalf("all threads blocked but TID %d runs", currentTID())
	}
	return tids, frames
}

func TestBlockWakeChan(t *testing.T) {
	const x, y, z = 0x1000_0001, 0x1000_0002, 0x1000_0003
	tests := []struct {
		name  string
		chans []uint64
		ch    uint64
		max   int
		woken []int // indices into chans, in wake (slot) order
	}{
		{"one of many", []uint64{x, y, x, x}, x, 1, []int{0}},
		{"two of three", []uint64{x, y, x, x}, x, 2, []int{0, 2}},
		{"all", []uint64{x, y, x, x}, x, MaxThreads, []int{0, 2, 3}},
		{"exactly all", []uint64{x, y, x, x}, x, 3, []int{0, 2, 3}},
		{"max 0", []uint64{x, y, x, x}, x, 0, nil},
		{"negative max", []uint64{x, x}, x, -1, nil},
		{"other channel", []uint64{x, y, x, x}, y, 10, []int{1}},
		{"no waiters", []uint64{x, y}, z, 10, nil},
		{"single", []uint64{z}, z, 1, []int{0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reset(t)
			c := newCPU()
			tids, frames := blockAll(t, c, tc.chans)
			n := WakeChan(tc.ch, tc.max)
			if n != len(tc.woken) {
				t.Errorf("WakeChan = %d, want %d", n, len(tc.woken))
			}
			isWoken := map[int]bool{}
			var wantQ []int32
			for _, k := range tc.woken {
				isWoken[k] = true
				wantQ = append(wantQ, tids[k])
			}
			if diff := cmp.Diff(wantQ, runQueueTIDs(t)); diff != "" {
				t.Errorf("run queue (-want +got):\n%s", diff)
			}
			for k, tid := range tids {
				th := Get(slotOf(t, tid))
				wantF, wantState, wantCh := frames[k], Blocked, tc.chans[k]
				if isWoken[k] {
					wantF.RAX, wantState, wantCh = 0, Runnable, 0
				}
				if th.State != wantState || th.WaitChan != wantCh {
					t.Errorf("worker %d: state %d chan %#x, want %d %#x", k, th.State, th.WaitChan, wantState, wantCh)
				}
				if diff := cmp.Diff(wantF, th.Frame); diff != "" {
					t.Errorf("worker %d frame (-want +got):\n%s", k, diff)
				}
			}
			if st := Get(slotOf(t, 1)).State; st != Blocked {
				t.Errorf("boot thread state %d, want Blocked", st)
			}
			// WakeChan only queues; the idle thread keeps running until
			// Reschedule, which then resumes the first woken thread.
			if !IsIdle() {
				t.Errorf("WakeChan switched away from idle")
			}
			Reschedule(&c.f, &c.fx, 1000)
			if len(tc.woken) == 0 {
				if !IsIdle() || c.f != idleFrame() {
					t.Errorf("Reschedule with nothing runnable left idle (TID %d)", currentTID())
				}
				return
			}
			first := tc.woken[0]
			want := frames[first]
			want.RAX = 0
			if got := currentTID(); got != tids[first] {
				t.Errorf("after Reschedule current TID %d, want %d", got, tids[first])
			}
			if diff := cmp.Diff(want, c.f); diff != "" {
				t.Errorf("resumed frame (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWakeChanRestart(t *testing.T) {
	tests := []struct {
		name                   string
		restartRIP, restartRAX uint64
		wake                   string // "chan", "timeout" or "wake"
		wantRIP, wantRAX       uint64
	}{
		{"no restart", 0, 0, "chan", 0x40_0100, 0},
		{"restart", 0x40_00F0, 281, "chan", 0x40_00F0, 281},
		{"restart with RAX 0", 0x40_00F0, 0, "chan", 0x40_00F0, 0},
		// Timeouts and signals (Wake) do not restart.
		{"timeout does not restart", 0x40_00F0, 281, "timeout", 0x40_0100, 0xFFFF_FFFF_FFFF_FF92},
		{"Wake does not restart", 0x40_00F0, 281, "wake", 0x40_0100, 0xFFFF_FFFF_FFFF_FFFC},
	}
	const ch = 0x2000_0000
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reset(t)
			c := newCPU()
			spawn(t, 5)
			c.f.RIP, c.f.RAX = 0x40_0100, 232
			Current().RestartRIP, Current().RestartRAX = tc.restartRIP, tc.restartRAX
			Block(&c.f, &c.fx, ch, 5000, 0xFFFF_FFFF_FFFF_FF92, 100)
			switch tc.wake {
			case "chan":
				if n := WakeChan(ch, 1); n != 1 {
					t.Fatalf("WakeChan = %d, want 1", n)
				}
			case "timeout":
				Tick(&c.f, &c.fx, 5000)
			case "wake":
				Wake(slotOf(t, 1), 0xFFFF_FFFF_FFFF_FFFC)
			}
			th := Get(slotOf(t, 1))
			type view struct {
				State    State
				RIP, RAX uint64
				Restart  uint64
				WaitChan uint64
				Deadline int64
			}
			want := view{Runnable, tc.wantRIP, tc.wantRAX, 0, 0, 0}
			got := view{th.State, th.Frame.RIP, th.Frame.RAX, th.RestartRIP, th.WaitChan, th.Deadline}
			if got.State == Running { // Tick may have preempted straight into it
				got.State = Runnable
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("woken thread (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTickDeadline(t *testing.T) {
	const ch, tr uint64 = 0x3000_0000, 0xFFFF_FFFF_FFFF_FF92
	tests := []struct {
		name     string
		deadline int64
		ticks    []int64
		wakeAt   int // index into ticks of the tick that wakes it; -1 never
		chanWake int // index of the tick before which WakeChan(ch) runs; -1 never
	}{
		{"at deadline", 1000, []int64{500, 999, 1000, 1500}, 2, -1},
		{"after deadline", 1000, []int64{200, 1700}, 1, -1},
		{"first tick", 150, []int64{150}, 0, -1},
		{"no deadline", 0, []int64{1000, 1 << 40, 1 << 62}, -1, -1},
		{"not yet", 1 << 40, []int64{1000, 1<<40 - 1}, -1, -1},
		{"woken by channel first", 1000, []int64{500, 1000, 2000}, -1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reset(t)
			c := newCPU()
			spawn(t, 5)
			c.f.RAX = 202
			Block(&c.f, &c.fx, ch, tc.deadline, tr, 100)
			boot := Get(slotOf(t, 1))
			woken := false
			for k, now := range tc.ticks {
				if k == tc.chanWake {
					if n := WakeChan(ch, 1); n != 1 {
						t.Fatalf("WakeChan = %d, want 1", n)
					}
					if boot.Frame.RAX != 0 {
						t.Errorf("woken by channel with RAX %#x, want 0", boot.Frame.RAX)
					}
				}
				Tick(&c.f, &c.fx, now)
				if k == tc.wakeAt {
					woken = true
					if boot.Frame.RAX != tr {
						t.Errorf("tick %d: timed-out RAX %#x, want %#x", now, boot.Frame.RAX, tr)
					}
					if boot.WaitChan != 0 || boot.Deadline != 0 {
						t.Errorf("tick %d: woken thread still waits (chan %#x, deadline %d)",
							now, boot.WaitChan, boot.Deadline)
					}
				}
				blocked := boot.State == Blocked
				if wantBlocked := !woken && tc.chanWake < 0 || tc.chanWake > k; blocked != wantBlocked {
					t.Errorf("tick %d (deadline %d): blocked = %v, want %v", now, tc.deadline, blocked, wantBlocked)
				}
			}
			if tc.chanWake >= 0 && boot.Frame.RAX != 0 {
				t.Errorf("a later deadline overwrote the channel wake-up: RAX %#x", boot.Frame.RAX)
			}
			if woken || tc.chanWake >= 0 {
				if n := WakeChan(ch, 10); n != 0 {
					t.Errorf("WakeChan after wake-up woke %d threads", n)
				}
			}
		})
	}
}

func TestTickQuantum(t *testing.T) {
	const t0 = 1_000_000
	tests := []struct {
		name       string
		other      bool
		elapsed    int64
		wantSwitch bool
	}{
		{"fresh slice", true, 0, false},
		{"just before quantum", true, Quantum - 1, false},
		{"at quantum", true, Quantum, true},
		{"long after quantum", true, 7 * Quantum, true},
		{"alone at quantum", false, Quantum, false},
		{"alone long after", false, 7 * Quantum, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reset(t)
			c := newCPU()
			a := spawn(t, 5)
			Block(&c.f, &c.fx, 0x77, 0, 0, t0) // A's slice starts at t0
			var b int32
			if tc.other {
				b = spawn(t, 6)
			}
			Tick(&c.f, &c.fx, t0+tc.elapsed)
			want, wantF := a, threadFrame(5)
			if tc.wantSwitch {
				want, wantF = b, threadFrame(6)
			}
			if got := currentTID(); got != want {
				t.Fatalf("after Tick current TID %d, want %d", got, want)
			}
			if diff := cmp.Diff(wantF, c.f); diff != "" {
				t.Errorf("trap frame (-want +got):\n%s", diff)
			}
			if !tc.wantSwitch {
				return
			}
			if diff := cmp.Diff([]int32{a}, runQueueTIDs(t)); diff != "" {
				t.Errorf("run queue (-want +got):\n%s", diff)
			}
			// B got a fresh slice at the switch.
			t1 := t0 + tc.elapsed
			Tick(&c.f, &c.fx, t1+Quantum-1)
			if got := currentTID(); got != b {
				t.Errorf("Tick before B's quantum switched to %d", got)
			}
			Tick(&c.f, &c.fx, t1+Quantum)
			if got := currentTID(); got != a {
				t.Errorf("Tick at B's quantum: current %d, want %d", got, a)
			}
		})
	}
}

func TestExit(t *testing.T) {
	for _, others := range []int{0, 1, 3} {
		t.Run(fmt.Sprintf("%d others", others), func(t *testing.T) {
			reset(t)
			c := newCPU()
			var tids []int32
			for k := 0; k < others; k++ {
				tids = append(tids, spawn(t, uint64(10+k)))
			}
			Exit(&c.f, &c.fx, 100)
			if _, ok := Lookup(1); ok {
				t.Errorf("Lookup(1) still finds the exited thread")
			}
			if Count() != others {
				t.Errorf("Count() = %d, want %d", Count(), others)
			}
			for i := int32(1); i < MaxThreads; i++ {
				if Get(i).TID == 1 && Get(i).State != Free {
					t.Errorf("slot %d of exited thread has state %d", i, Get(i).State)
				}
			}
			if others == 0 {
				if !IsIdle() {
					t.Errorf("last thread exited but TID %d runs", currentTID())
				}
				if diff := cmp.Diff(idleFrame(), c.f); diff != "" {
					t.Errorf("trap frame (-want +got):\n%s", diff)
				}
				return
			}
			if got := currentTID(); got != tids[0] {
				t.Errorf("after Exit current TID %d, want %d", got, tids[0])
			}
			if diff := cmp.Diff(threadFrame(10), c.f); diff != "" {
				t.Errorf("trap frame (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tids[1:], runQueueTIDs(t), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("run queue (-want +got):\n%s", diff)
			}
			// TIDs are not reused.
			if tid := spawn(t, 99); tid <= tids[len(tids)-1] {
				t.Errorf("Spawn after Exit returned TID %d, not above %d", tid, tids[len(tids)-1])
			}
		})
	}
}

func TestIdle(t *testing.T) {
	const ch = 0x4000_0000
	tests := []struct {
		name    string
		wake    func(t *testing.T, c *cpu, now int64) // makes a thread runnable
		wantRAX uint64
	}{
		{"WakeChan", func(t *testing.T, c *cpu, now int64) { WakeChan(ch, 1) }, 0},
		{"Wake", func(t *testing.T, c *cpu, now int64) { Wake(slotOf(t, 1), 0xFFFF_FFFF_FFFF_FFFC) }, 0xFFFF_FFFF_FFFF_FFFC},
		{"deadline", func(t *testing.T, c *cpu, now int64) { Tick(&c.f, &c.fx, now) }, 0x6E},
		{"Spawn", func(t *testing.T, c *cpu, now int64) { spawn(t, 42) }, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reset(t)
			c := newCPU()
			bootF := c.f
			bootF.RAX = 35
			c.f = bootF
			if tc.name == "Spawn" {
				// The boot thread is not woken here; a new thread appears.
				Block(&c.f, &c.fx, ch, 0, 0x6E, 100)
			} else {
				Block(&c.f, &c.fx, ch, 5000, 0x6E, 100)
			}
			if !IsIdle() || CurrentIndex() != 0 || Current() != Get(0) {
				t.Fatalf("nothing runnable but TID %d runs", currentTID())
			}
			if diff := cmp.Diff(idleFrame(), c.f); diff != "" {
				t.Errorf("idle trap frame (-want +got):\n%s", diff)
			}
			if c.fx != initFX() {
				t.Errorf("idle FX state is not the initial state")
			}
			// Nothing to do: Reschedule and Tick stay idle.
			c.f.RIP += 2 // the idle loop advanced
			idleNow := c.f
			Reschedule(&c.f, &c.fx, 1000)
			Tick(&c.f, &c.fx, 4999) // before the deadline
			if !IsIdle() || c.f != idleNow {
				t.Fatalf("idle left with nothing runnable")
			}
			if q := runQueue(t); len(q) != 0 {
				t.Fatalf("run queue %v while idle", q)
			}

			tc.wake(t, c, 5000)
			if !IsIdle() {
				t.Errorf("waking a thread left idle before Reschedule")
			}
			Reschedule(&c.f, &c.fx, 5000)
			if IsIdle() {
				t.Fatalf("Reschedule stayed idle with a runnable thread")
			}
			want := bootF
			want.RAX = tc.wantRAX
			if tc.name == "Spawn" {
				want = threadFrame(42)
			}
			if diff := cmp.Diff(want, c.f); diff != "" {
				t.Errorf("resumed frame (-want +got):\n%s", diff)
			}
			if Get(0).Frame != idleNow {
				t.Errorf("idle frame not saved on leaving idle: %+v", Get(0).Frame)
			}
			for _, i := range runQueue(t) {
				if i == 0 {
					t.Errorf("idle thread on the run queue")
				}
			}
			// Blocking again resumes idle where it left off.
			Block(&c.f, &c.fx, ch+1, 0, 0, 6000)
			if !IsIdle() || c.f != idleNow {
				t.Errorf("idle resumed with %+v, want %+v", c.f, idleNow)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	reset(t)
	c := newCPU()
	a, b, d := spawn(t, 10), spawn(t, 11), spawn(t, 12)
	Yield(&c.f, &c.fx, 10) // a runs
	Exit(&c.f, &c.fx, 20)  // a exits, b runs
	Block(&c.f, &c.fx, 0x55, 0, 0, 30)
	tests := []struct {
		tid   int32
		state State // Free: not found
	}{
		{1, Runnable}, {a, Free}, {b, Blocked}, {d, Running},
		{0, Free}, {-1, Free}, {d + 1, Free}, {1 << 30, Free},
	}
	for _, tc := range tests {
		i, ok := Lookup(tc.tid)
		if ok != (tc.state != Free) {
			t.Errorf("Lookup(%d) ok = %v, want %v", tc.tid, ok, tc.state != Free)
			continue
		}
		if !ok {
			continue
		}
		if th := Get(i); th.TID != tc.tid || th.State != tc.state {
			t.Errorf("Lookup(%d) = slot %d with TID %d state %d, want state %d",
				tc.tid, i, th.TID, th.State, tc.state)
		}
	}
}

func TestSpawnTableFull(t *testing.T) {
	reset(t)
	c := newCPU()
	last := int32(1)
	for k := 0; k < MaxThreads-2; k++ {
		f, fx := threadFrame(uint64(k)), threadFX(uint64(k))
		tid, ok := Spawn(&f, &fx, 0)
		if !ok {
			t.Fatalf("Spawn #%d failed with %d live threads", k, Count())
		}
		if tid <= last {
			t.Fatalf("Spawn #%d returned TID %d after %d", k, tid, last)
		}
		last = tid
	}
	if Count() != MaxThreads-1 {
		t.Fatalf("Count() = %d, want %d", Count(), MaxThreads-1)
	}
	queued := len(runQueue(t))
	var f amd64.Frame
	var fx amd64.FXState
	for k := 0; k < 3; k++ {
		if tid, ok := Spawn(&f, &fx, 0); ok || tid != 0 {
			t.Errorf("Spawn into a full table = %d, %v; want 0, false", tid, ok)
		}
	}
	if Count() != MaxThreads-1 || len(runQueue(t)) != queued {
		t.Errorf("failed Spawn changed the table: Count %d, queue length %d", Count(), len(runQueue(t)))
	}
	Exit(&c.f, &c.fx, 100) // the boot thread's slot is free again
	tid, ok := Spawn(&f, &fx, 0)
	if !ok {
		t.Fatalf("Spawn after Exit failed")
	}
	if tid != last+1 {
		t.Errorf("Spawn after Exit returned TID %d, want %d (failed Spawns must not use TIDs)", tid, last+1)
	}
	if i, ok := Lookup(tid); !ok || i != 1 {
		t.Errorf("Lookup(%d) = %d, %v; want the freed slot 1", tid, i, ok)
	}
}

func TestAccounting(t *testing.T) {
	// Time starts at 0 when the boot thread starts (reset leaves the last
	// switch at 0).
	reset(t)
	c := newCPU()
	a, b := spawn(t, 10), spawn(t, 11)
	steps := []struct {
		name     string
		do       func()
		wantCur  int32
		wantRun  map[int32]int64
		wantIdle int64
	}{
		{"boot yields at 100", func() { Yield(&c.f, &c.fx, 100) }, a,
			map[int32]int64{1: 100, a: 0, b: 0}, 0},
		{"a blocks at 350", func() { Block(&c.f, &c.fx, 7, 0, 0, 350) }, b,
			map[int32]int64{1: 100, a: 250, b: 0}, 0},
		{"b yields at 1000", func() { Yield(&c.f, &c.fx, 1000) }, 1,
			map[int32]int64{1: 100, a: 250, b: 650}, 0},
		{"boot blocks at 1100, b yields alone at 1150", func() { Block(&c.f, &c.fx, 8, 0, 0, 1100); Yield(&c.f, &c.fx, 1150) }, b,
			map[int32]int64{1: 200, a: 250, b: 650}, 0},
		{"b blocks at 1500", func() { Block(&c.f, &c.fx, 9, 0, 0, 1500) }, 0,
			map[int32]int64{1: 200, a: 250, b: 1050}, 0},
		{"idle Reschedule with nothing runnable", func() { Reschedule(&c.f, &c.fx, 3000) }, 0,
			map[int32]int64{1: 200, a: 250, b: 1050}, 0},
		{"a woken, Reschedule at 4000", func() { WakeChan(7, 1); Reschedule(&c.f, &c.fx, 4000) }, a,
			map[int32]int64{1: 200, a: 250, b: 1050}, 2500},
		{"a exits at 4600", func() { Exit(&c.f, &c.fx, 4600) }, 0,
			map[int32]int64{1: 200, b: 1050}, 2500},
		{"boot woken, Reschedule at 5000", func() { WakeChan(8, 1); Reschedule(&c.f, &c.fx, 5000) }, 1,
			map[int32]int64{1: 200, b: 1050}, 2900},
		{"b woken, Tick past quantum", func() { WakeChan(9, 1); Tick(&c.f, &c.fx, 5000+Quantum) }, b,
			map[int32]int64{1: 200 + Quantum, b: 1050}, 2900},
	}
	for _, s := range steps {
		s.do()
		if got := currentTID(); got != s.wantCur {
			t.Fatalf("%s: current TID %d, want %d", s.name, got, s.wantCur)
		}
		got := map[int32]int64{}
		for tid := range s.wantRun {
			if i, ok := Lookup(tid); ok {
				got[tid] = Get(i).RunNanos
			}
		}
		if diff := cmp.Diff(s.wantRun, got); diff != "" {
			t.Errorf("%s: RunNanos by TID (-want +got):\n%s", s.name, diff)
		}
		if IdleNanos() != s.wantIdle {
			t.Errorf("%s: IdleNanos() = %d, want %d", s.name, IdleNanos(), s.wantIdle)
		}
	}
}
