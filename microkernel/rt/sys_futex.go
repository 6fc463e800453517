package rt

import (
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/sched"
)

// Futex wait channels are the futex word's address with this tag in the top
// byte, so they cannot collide with the other kinds of wait channel.
const futexTag = 0xF0 << 56

func futexKey(addr uint64) uint64 { return addr&^(0xFF<<56) | futexTag }

// sysFutex implements futex(2) for the operations the Go runtime uses:
// FUTEX_WAIT and FUTEX_WAKE (private or not, which is the same thing in one
// address space), their BITSET forms with a full mask, and a relative
// timeout for WAIT.
func sysFutex(c call) {
	addr, op, val := c.arg(0), c.arg(1), c.arg(2)
	if addr&3 != 0 || !kernelIn(addr, 4) {
		c.fail(errno.EINVAL)
		return
	}
	cmd := op &^ (linux.FUTEX_PRIVATE_FLAG | linux.FUTEX_CLOCK_REALTIME)
	switch cmd {
	case linux.FUTEX_WAIT, linux.FUTEX_WAIT_BITSET:
		if cmd == linux.FUTEX_WAIT_BITSET && uint32(c.arg(5)) == 0 {
			c.fail(errno.EINVAL)
			return
		}
		// With interrupts off on the only CPU, this load and the decision to
		// sleep are atomic with respect to every FUTEX_WAKE.
		if *u32At(uintptr(addr)) != uint32(val) {
			c.fail(errno.EAGAIN)
			return
		}
		deadline := int64(0)
		if ts := c.arg(3); ts != 0 {
			d, ok := readTimespec(ts)
			if !ok {
				c.fail(errno.EINVAL)
				return
			}
			if cmd == linux.FUTEX_WAIT_BITSET {
				deadline = absDeadline(op&linux.FUTEX_CLOCK_REALTIME != 0, d)
			} else {
				deadline = c.now + d
			}
			if deadline <= c.now {
				c.fail(errno.ETIMEDOUT)
				return
			}
		}
		c.ret(0)
		sched.Block(c.f, c.fx, futexKey(addr), deadline, errnoRet(errno.ETIMEDOUT), c.now)
	case linux.FUTEX_WAKE, linux.FUTEX_WAKE_BITSET:
		n := int(int32(val))
		if n < 0 {
			n = 0
		}
		c.ret(uint64(sched.WakeChan(futexKey(addr), n)))
	default:
		c.fail(errno.ENOSYS)
	}
}

// futexWakeKernel wakes threads waiting on a futex word from a trap
// handler (an interrupt, a thread exit).
func futexWakeKernel(addr uint64, n int) int { return sched.WakeChan(futexKey(addr), n) }
