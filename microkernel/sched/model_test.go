package sched

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"valence.dev/microkernel/arch/amd64"
)

// refThread is the reference model's view of one live thread.
type refThread struct {
	State      State
	WaitChan   uint64
	Deadline   int64
	Timeout    uint64
	RestartRIP uint64
	RestartRAX uint64
	Frame      amd64.Frame // state it resumes with (stale while running)
	FX         amd64.FXState
	FSBase     uint64
	RunNanos   int64
}

// refSched is a reference model of the scheduler written from the package
// documentation: threads by TID, the run queue as a slice of TIDs, 0 = idle.
// Slot numbers are the implementation's business; the model asks Lookup for
// them only where the documentation orders by slot (WakeChan, Tick).
type refSched struct {
	threads    map[int32]*refThread
	idle       refThread
	cur        int32
	queue      []int32
	nextTID    int32
	lastSwitch int64
	sliceStart int64
	idleNanos  int64
}

func newRefSched(boot amd64.Frame, bootFX amd64.FXState) *refSched {
	return &refSched{
		threads: map[int32]*refThread{1: {State: Running, Frame: boot, FX: bootFX, FSBase: testBootFS}},
		idle:    refThread{Frame: idleFrame(), FX: initFX(), FSBase: testIdleFS},
		cur:     1,
		nextTID: 2,
	}
}

func (m *refSched) th(tid int32) *refThread {
	if tid == 0 {
		return &m.idle
	}
	return m.threads[tid]
}

// slotsByTID maps every live TID to its slot, as Lookup would.
func slotsByTID() map[int32]int32 {
	slots := map[int32]int32{}
	for i := int32(1); i < MaxThreads; i++ {
		if threads[i].State != Free {
			slots[threads[i].TID] = i
		}
	}
	return slots
}

// bySlot returns tids sorted by the slot the implementation gave them.
func bySlot(t testing.TB, tids []int32) []int32 {
	t.Helper()
	slots := slotsByTID()
	for _, tid := range tids {
		if _, ok := slots[tid]; !ok {
			t.Fatalf("TID %d is live in the model but not in the table", tid)
		}
	}
	slices.SortFunc(tids, func(a, b int32) int { return int(slots[a] - slots[b]) })
	return tids
}

func (m *refSched) switchNext(c *cpu, now int64) {
	if m.cur == 0 {
		m.idleNanos += now - m.lastSwitch
	} else if th, ok := m.threads[m.cur]; ok {
		th.RunNanos += now - m.lastSwitch
	}
	m.lastSwitch, m.sliceStart = now, now
	m.cur = 0
	if len(m.queue) > 0 {
		m.cur, m.queue = m.queue[0], m.queue[1:]
		m.threads[m.cur].State = Running
	}
	c.f, c.fx = m.th(m.cur).Frame, m.th(m.cur).FX
}

func (m *refSched) save(c *cpu) {
	th := m.th(m.cur)
	th.Frame, th.FX = c.f, c.fx
}

func (m *refSched) spawn(f amd64.Frame, fx amd64.FXState, fs uint64) (int32, bool) {
	if len(m.threads) == MaxThreads-1 {
		return 0, false
	}
	tid := m.nextTID
	m.nextTID++
	m.threads[tid] = &refThread{State: Runnable, Frame: f, FX: fx, FSBase: fs}
	m.queue = append(m.queue, tid)
	return tid, true
}

func (m *refSched) block(c *cpu, ch uint64, deadline int64, timeout uint64, now int64) {
	m.save(c)
	th := m.threads[m.cur]
	th.State, th.WaitChan, th.Deadline, th.Timeout = Blocked, ch, deadline, timeout
	m.switchNext(c, now)
}

func (m *refSched) exit(c *cpu, now int64) {
	old := m.cur
	m.switchNext(c, now)
	delete(m.threads, old)
}

func (m *refSched) yield(c *cpu, now int64) {
	if len(m.queue) == 0 {
		return
	}
	m.save(c)
	if m.cur != 0 {
		m.threads[m.cur].State = Runnable
		m.queue = append(m.queue, m.cur)
	}
	m.switchNext(c, now)
}

func (m *refSched) wake(tid int32, rax uint64) {
	th, ok := m.threads[tid]
	if !ok || th.State != Blocked {
		return
	}
	th.Frame.RAX = rax
	th.State, th.WaitChan, th.Deadline, th.RestartRIP = Runnable, 0, 0, 0
	m.queue = append(m.queue, tid)
}

func (m *refSched) wakeChan(t testing.TB, ch uint64, limit int) int {
	var waiters []int32
	for tid, th := range m.threads {
		if th.State == Blocked && th.WaitChan == ch {
			waiters = append(waiters, tid)
		}
	}
	n := 0
	for _, tid := range bySlot(t, waiters) {
		if n >= limit {
			break
		}
		th := m.threads[tid]
		if th.RestartRIP != 0 {
			th.Frame.RIP = th.RestartRIP
			m.wake(tid, th.RestartRAX)
		} else {
			m.wake(tid, 0)
		}
		n++
	}
	return n
}

func (m *refSched) tick(t testing.TB, c *cpu, now int64) {
	var expired []int32
	for tid, th := range m.threads {
		if th.State == Blocked && th.Deadline != 0 && now >= th.Deadline {
			expired = append(expired, tid)
		}
	}
	for _, tid := range bySlot(t, expired) {
		m.wake(tid, m.threads[tid].Timeout)
	}
	if m.cur != 0 && now-m.sliceStart >= Quantum {
		m.yield(c, now)
	}
}

func (m *refSched) reschedule(c *cpu, now int64) {
	if m.cur == 0 && len(m.queue) > 0 {
		m.save(c)
		m.switchNext(c, now)
	}
}

// checkInvariants checks the invariants of doc.go on the real state.
func checkInvariants(t testing.TB) {
	t.Helper()
	if cur < 0 || cur >= MaxThreads {
		t.Fatalf("cur = %d out of range", cur)
	}
	if cur != 0 && threads[cur].State != Running {
		t.Fatalf("current slot %d has state %d, want Running", cur, threads[cur].State)
	}
	running, live := 0, 0
	for i := int32(1); i < MaxThreads; i++ {
		switch threads[i].State {
		case Running:
			running++
			if i != cur {
				t.Fatalf("slot %d is Running but cur = %d", i, cur)
			}
		case Free:
			continue
		}
		live++
	}
	if want := map[bool]int{true: 0, false: 1}[cur == 0]; running != want {
		t.Fatalf("%d Running threads with cur = %d", running, cur)
	}
	if live != Count() {
		t.Fatalf("Count() = %d but %d slots are live", Count(), live)
	}
	onQueue := map[int32]bool{}
	q := runQueue(t)
	for _, i := range q {
		if i <= 0 || i >= MaxThreads {
			t.Fatalf("run queue %v holds slot %d", q, i)
		}
		if onQueue[i] {
			t.Fatalf("slot %d is on the run queue twice: %v", i, q)
		}
		onQueue[i] = true
		if threads[i].State != Runnable {
			t.Fatalf("slot %d on the run queue has state %d", i, threads[i].State)
		}
	}
	if len(q) == 0 && (runHead != -1 || runTail != -1) {
		t.Fatalf("empty run queue with head %d tail %d", runHead, runTail)
	}
	if len(q) > 0 && runTail != q[len(q)-1] {
		t.Fatalf("run queue %v ends at %d but runTail = %d", q, q[len(q)-1], runTail)
	}
	for i := int32(1); i < MaxThreads; i++ {
		if threads[i].State == Runnable && !onQueue[i] {
			t.Fatalf("Runnable slot %d is not on the run queue %v", i, q)
		}
	}
	if Get(0).TID != 0 {
		t.Fatalf("idle TID = %d", Get(0).TID)
	}
	tids := map[int32]int32{}
	for i := int32(1); i < MaxThreads; i++ {
		if threads[i].State == Free {
			continue
		}
		if j, dup := tids[threads[i].TID]; dup {
			t.Fatalf("TID %d in slots %d and %d", threads[i].TID, j, i)
		}
		tids[threads[i].TID] = i
	}
}

// compareModel checks the real scheduler against the model.
// Lookup is checked for every thread when full is set (it is a linear
// scan, too slow to repeat for every thread after every operation).
func compareModel(t testing.TB, m *refSched, real, want *cpu, full bool) {
	t.Helper()
	if want.f != real.f {
		t.Fatalf("trap frame (-model +real):\n%s", cmp.Diff(want.f, real.f))
	}
	if real.fx != want.fx {
		t.Fatalf("trap FX state differs from the model")
	}
	if got := currentTID(); got != m.cur {
		t.Fatalf("current TID %d, model %d", got, m.cur)
	}
	if q := runQueueTIDs(t); !slices.Equal(m.queue, q) {
		t.Fatalf("run queue TIDs (-model +real):\n%s", cmp.Diff(m.queue, q, cmpopts.EquateEmpty()))
	}
	if Count() != len(m.threads) {
		t.Fatalf("Count() = %d, model %d", Count(), len(m.threads))
	}
	if IdleNanos() != m.idleNanos {
		t.Fatalf("IdleNanos() = %d, model %d", IdleNanos(), m.idleNanos)
	}
	slots := slotsByTID()
	if len(slots) != len(m.threads) {
		t.Fatalf("%d live TIDs in the table, model %d", len(slots), len(m.threads))
	}
	for tid, want := range m.threads {
		i, ok := slots[tid]
		if !ok {
			t.Fatalf("TID %d is live in the model but not in the table", tid)
		}
		if full || tid == m.cur {
			if j, ok := Lookup(tid); !ok || j != i {
				t.Fatalf("Lookup(%d) = %d, %v; want slot %d", tid, j, ok, i)
			}
		}
		th := Get(i)
		got := refThread{
			State: th.State, WaitChan: th.WaitChan, Deadline: th.Deadline,
			// RestartRAX is only read together with RestartRIP.
			RestartRIP: th.RestartRIP, RestartRAX: want.RestartRAX,
			Frame: th.Frame, FX: th.FX, FSBase: th.FSBase, RunNanos: th.RunNanos,
		}
		got.Timeout = th.TimeoutResult
		if tid == m.cur {
			got.Frame, got.FX = want.Frame, want.FX // stale while running
		}
		if *want != got {
			t.Fatalf("thread %d (-model +real):\n%s", tid, cmp.Diff(*want, got))
		}
	}
}

type modelWeights struct {
	spawn, block, wakeChan, wake, tick, yield, exit, resched int
}

func TestModelRandom(t *testing.T) {
	tests := []struct {
		name string
		seed uint64
		ops  int
		w    modelWeights
	}{
		{"balanced", 1, 4000, modelWeights{spawn: 12, block: 15, wakeChan: 15, wake: 4, tick: 25, yield: 12, exit: 7, resched: 10}},
		{"balanced 2", 2, 4000, modelWeights{spawn: 12, block: 15, wakeChan: 15, wake: 4, tick: 25, yield: 12, exit: 7, resched: 10}},
		{"crowded", 3, 3000, modelWeights{spawn: 40, block: 10, wakeChan: 10, wake: 2, tick: 15, yield: 15, exit: 2, resched: 6}},
		{"mostly blocked", 4, 4000, modelWeights{spawn: 8, block: 30, wakeChan: 8, wake: 2, tick: 30, yield: 5, exit: 5, resched: 12}},
		{"churn", 5, 4000, modelWeights{spawn: 20, block: 10, wakeChan: 10, wake: 5, tick: 15, yield: 10, exit: 20, resched: 10}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runModel(t, tc.seed, tc.ops, tc.w)
		})
	}
}

func runModel(t *testing.T, seed uint64, nops int, w modelWeights) {
	reset(t)
	rng := rand.New(rand.NewPCG(seed, 0x5C4ED))
	real := newCPU()
	m := newRefSched(real.f, real.fx)
	now := int64(0)
	channels := []uint64{0x1_0001, 0x1_0002, 0x1_0003}
	total := w.spawn + w.block + w.wakeChan + w.wake + w.tick + w.yield + w.exit + w.resched
	var history []string
	defer func() {
		if t.Failed() {
			start := max(0, len(history)-15)
			t.Logf("seed %d, last operations:\n%v", seed, history[start:])
		}
	}()
	fullSeen := false
	for op := 0; op < nops; op++ {
		// Whatever runs makes progress between traps.
		real.f.RBX = rng.Uint64()
		real.f.RIP += 4
		real.fx[20] = rng.Uint64()
		if rng.IntN(4) == 0 {
			now += rng.Int64N(2 * Quantum)
		} else {
			now += rng.Int64N(Quantum / 8)
		}
		want := *real

		r := rng.IntN(total)
		var desc string
		switch {
		case r < w.spawn:
			f := threadFrame(uint64(op))
			f.RIP = rng.Uint64()
			fx := threadFX(uint64(op))
			fs := rng.Uint64()
			wantTID, wantOK := m.spawn(f, fx, fs)
			tid, ok := Spawn(&f, &fx, fs)
			desc = fmt.Sprintf("Spawn = %d %v", tid, ok)
			if tid != wantTID || ok != wantOK {
				t.Fatalf("op %d: Spawn = %d, %v; model %d, %v", op, tid, ok, wantTID, wantOK)
			}
			fullSeen = fullSeen || !ok
		case r < w.spawn+w.block:
			if IsIdle() {
				continue
			}
			ch := channels[rng.IntN(len(channels))]
			var deadline int64
			if rng.IntN(2) == 0 {
				deadline = now + 1 + rng.Int64N(3*Quantum)
				if rng.IntN(3) == 0 {
					ch = 0 // a plain sleep
				}
			}
			timeout := rng.Uint64()
			var rip, rax uint64
			if rng.IntN(3) == 0 {
				rip, rax = real.f.RIP-2, rng.Uint64()
			}
			Current().RestartRIP, Current().RestartRAX = rip, rax
			m.threads[m.cur].RestartRIP, m.threads[m.cur].RestartRAX = rip, rax
			desc = fmt.Sprintf("Block(%d) ch %#x deadline %d restart %#x at %d", m.cur, ch, deadline, rip, now)
			m.block(&want, ch, deadline, timeout, now)
			Block(&real.f, &real.fx, ch, deadline, timeout, now)
		case r < w.spawn+w.block+w.wakeChan:
			ch := channels[rng.IntN(len(channels))]
			limit := []int{0, 1, 1, 2, MaxThreads}[rng.IntN(5)]
			wantN := m.wakeChan(t, ch, limit)
			n := WakeChan(ch, limit)
			desc = fmt.Sprintf("WakeChan(%#x, %d) = %d", ch, limit, n)
			if n != wantN {
				t.Fatalf("op %d: WakeChan(%#x, %d) = %d, model %d", op, ch, limit, n, wantN)
			}
		case r < w.spawn+w.block+w.wakeChan+w.wake:
			var tids []int32
			for tid := range m.threads {
				tids = append(tids, tid)
			}
			if len(tids) == 0 {
				continue
			}
			slices.Sort(tids)
			tid := tids[rng.IntN(len(tids))]
			rax := rng.Uint64()
			desc = fmt.Sprintf("Wake(%d)", tid)
			m.wake(tid, rax)
			Wake(slotOf(t, tid), rax)
		case r < w.spawn+w.block+w.wakeChan+w.wake+w.tick:
			desc = fmt.Sprintf("Tick at %d", now)
			m.tick(t, &want, now)
			Tick(&real.f, &real.fx, now)
		case r < w.spawn+w.block+w.wakeChan+w.wake+w.tick+w.yield:
			desc = fmt.Sprintf("Yield(%d) at %d", m.cur, now)
			m.yield(&want, now)
			Yield(&real.f, &real.fx, now)
		case r < w.spawn+w.block+w.wakeChan+w.wake+w.tick+w.yield+w.exit:
			if IsIdle() {
				continue
			}
			desc = fmt.Sprintf("Exit(%d) at %d", m.cur, now)
			m.exit(&want, now)
			Exit(&real.f, &real.fx, now)
		default:
			desc = fmt.Sprintf("Reschedule at %d", now)
			m.reschedule(&want, now)
			Reschedule(&real.f, &real.fx, now)
		}
		history = append(history, desc)
		checkInvariants(t)
		compareModel(t, m, real, &want, op%50 == 0)
	}
	t.Logf("%d threads live at the end, table full seen: %v", len(m.threads), fullSeen)
}
