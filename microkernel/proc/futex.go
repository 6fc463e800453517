package proc

import (
	"encoding/binary"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

// futexTable holds a process's futex wait queues, keyed by user address.
// (Futexes in memory shared between processes come with shared memory.)
type futexTable struct {
	mu     sync.Mutex
	queues map[uint64][]*futexWaiter
}

type futexWaiter struct {
	ch      chan struct{} // closed by wake
	bitset  uint32
	removed bool
}

// wait implements FUTEX_WAIT: if the word at addr still holds val, sleep
// until woken, the deadline passes, or the thread is interrupted. The
// comparison and the enqueueing happen under the table lock, which wake
// also takes, so a wake after the user changed the word cannot be missed.
func (f *futexTable) wait(t *Thread, addr uint64, val, bitset uint32, deadline time.Time) errno.Errno {
	as := t.proc.addressSpace()
	if as == nil {
		return errno.EINTR
	}
	var word [4]byte
	f.mu.Lock()
	if err := as.CopyIn(addr, word[:]); err != nil {
		f.mu.Unlock()
		return errno.EFAULT
	}
	if binary.LittleEndian.Uint32(word[:]) != val {
		f.mu.Unlock()
		return errno.EAGAIN
	}
	w := &futexWaiter{ch: make(chan struct{}), bitset: bitset}
	if f.queues == nil {
		f.queues = map[uint64][]*futexWaiter{}
	}
	f.queues[addr] = append(f.queues[addr], w)
	f.mu.Unlock()
	if !t.CanBlock() {
		if f.remove(addr, w) {
			return errno.EINTR
		}
		return 0
	}

	var timeout <-chan time.Time
	if !deadline.IsZero() {
		tm := time.NewTimer(time.Until(deadline))
		defer tm.Stop()
		timeout = tm.C
	}
	select {
	case <-w.ch:
		return 0
	case <-timeout:
		if f.remove(addr, w) {
			return errno.ETIMEDOUT
		}
		return 0 // woken at the same time
	case <-t.intr:
		if f.remove(addr, w) {
			return errno.EINTR
		}
		return 0
	}
}

// remove takes w off its queue; it reports false if a wake got it first.
func (f *futexTable) remove(addr uint64, w *futexWaiter) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if w.removed {
		return false
	}
	q := f.queues[addr]
	for i, x := range q {
		if x == w {
			f.queues[addr] = append(q[:i:i], q[i+1:]...)
			break
		}
	}
	if len(f.queues[addr]) == 0 {
		delete(f.queues, addr)
	}
	w.removed = true
	return true
}

// wake implements FUTEX_WAKE: wake up to n waiters on addr whose bitset
// intersects mask (all for plain FUTEX_WAKE), in FIFO order.
func (f *futexTable) wake(addr uint64, n int) int { return f.wakeBitset(addr, n, ^uint32(0)) }

func (f *futexTable) wakeBitset(addr uint64, n int, mask uint32) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.queues[addr]
	woken := 0
	kept := q[:0]
	for _, w := range q {
		if woken < n && w.bitset&mask != 0 {
			w.removed = true
			close(w.ch)
			woken++
			continue
		}
		kept = append(kept, w)
	}
	if len(kept) == 0 {
		delete(f.queues, addr)
	} else {
		f.queues[addr] = kept
	}
	return woken
}

// sysFutex implements futex(2): FUTEX_WAIT, FUTEX_WAKE and their BITSET
// forms, private or not (one address space either way), with relative
// (WAIT) or absolute (WAIT_BITSET) timeouts.
func sysFutex(c *call) result {
	addr, op, val := c.arg(0), c.arg(1), uint32(c.arg(2))
	if addr&3 != 0 {
		return fail(errno.EINVAL)
	}
	cmd := op &^ (linux.FUTEX_PRIVATE_FLAG | linux.FUTEX_CLOCK_REALTIME)
	switch cmd {
	case linux.FUTEX_WAIT, linux.FUTEX_WAIT_BITSET:
		bitset := ^uint32(0)
		if cmd == linux.FUTEX_WAIT_BITSET {
			bitset = uint32(c.arg(5))
			if bitset == 0 {
				return fail(errno.EINVAL)
			}
		}
		var deadline time.Time
		if ts := c.arg(3); ts != 0 {
			d, e := readTimespec(c, ts)
			if e != 0 {
				return fail(e)
			}
			if cmd == linux.FUTEX_WAIT_BITSET {
				deadline = absTime(op&linux.FUTEX_CLOCK_REALTIME != 0, d)
			} else {
				deadline = time.Now().Add(time.Duration(d))
			}
		}
		if e := c.p.futexes.wait(c.t, addr, val, bitset, deadline); e != 0 {
			return fail(e)
		}
		return ok(0)
	case linux.FUTEX_WAKE:
		return ok(uint64(c.p.futexes.wake(addr, int(int32(val)))))
	case linux.FUTEX_WAKE_BITSET:
		mask := uint32(c.arg(5))
		if mask == 0 {
			return fail(errno.EINVAL)
		}
		return ok(uint64(c.p.futexes.wakeBitset(addr, int(int32(val)), mask)))
	}
	return fail(errno.ENOSYS)
}
