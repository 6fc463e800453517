package proc

import (
	"sync"
	"testing"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/ipc"
	"valence.dev/microkernel/kfile"
)

// TestCheckLimit checks the setrlimit rules: the soft limit anywhere up to
// the hard one, the hard one lowered but never raised, fixed resources
// only at their value.
func TestCheckLimit(t *testing.T) {
	for _, c := range []struct {
		old, set rlimit
		fixed    bool
		want     errno.Errno
	}{
		{rlimit{10, 20}, rlimit{15, 20}, false, 0},
		{rlimit{10, 20}, rlimit{20, 20}, false, 0},           // soft up to hard
		{rlimit{10, 20}, rlimit{5, 5}, false, 0},             // both lowered
		{rlimit{10, 20}, rlimit{10, 21}, false, errno.EPERM}, // hard raised
		{rlimit{10, 20}, rlimit{30, 30}, false, errno.EPERM},
		{rlimit{10, 20}, rlimit{21, 20}, false, errno.EINVAL}, // soft above hard
		{rlimit{rlimInf, rlimInf}, rlimit{rlimInf, rlimInf}, false, 0},
		{rlimit{1024, 1024}, rlimit{1024, 1024}, true, 0},
		{rlimit{1024, 1024}, rlimit{512, 1024}, true, errno.EINVAL}, // fixed
		{rlimit{1024, 1024}, rlimit{1024, 2048}, true, errno.EPERM},
	} {
		if got := checkLimit(c.old, c.set, c.fixed); got != c.want {
			t.Errorf("checkLimit(%v, %v, fixed %v) = %v, want %v", c.old, c.set, c.fixed, got, c.want)
		}
	}
}

// TestDefaultLimits checks what the first process starts with.
func TestDefaultLimits(t *testing.T) {
	l := defaultLimits()
	if l[linux.RLIMIT_AS] != (rlimit{rlimInf, rlimInf}) || l[linux.RLIMIT_DATA] != (rlimit{rlimInf, rlimInf}) {
		t.Errorf("RLIMIT_AS %v, RLIMIT_DATA %v: want unlimited", l[linux.RLIMIT_AS], l[linux.RLIMIT_DATA])
	}
	if l[linux.RLIMIT_NPROC].cur != uint64(maxProcs) || maxProcs < minProcs {
		t.Errorf("RLIMIT_NPROC %v, maxProcs %d", l[linux.RLIMIT_NPROC], maxProcs)
	}
	if l[linux.RLIMIT_NOFILE] != (rlimit{kfile.MaxFDs, kfile.MaxFDs}) || l[ipc.RlimitHandles] != (rlimit{maxHandles, maxHandles}) {
		t.Errorf("RLIMIT_NOFILE %v, handles %v: want the fixed table sizes", l[linux.RLIMIT_NOFILE], l[ipc.RlimitHandles])
	}
	if th := l[ipc.RlimitThreads]; th.cur == 0 || th.cur > uint64(maxThreads) || th.cur != th.max {
		t.Errorf("threads %v, maxThreads %d", th, maxThreads)
	}
	for r, fixed := range fixedLimits {
		if fixed && l[r].cur != l[r].max {
			t.Errorf("fixed resource %d is %v", r, l[r])
		}
	}
}

// TestChargeMemory checks the memory-object limit under concurrent
// creators: the total never exceeds it, and everything charged can be
// uncharged.
func TestChargeMemory(t *testing.T) {
	var a account
	const limit, size = 100 << 20, 4 << 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := 0
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				if a.chargeMemory(size, limit) {
					mu.Lock()
					got++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if got != limit/size || a.memObjects.Load() != int64(got*size) {
		t.Fatalf("%d charges of 4 MiB under a 100 MiB limit, %d bytes charged", got, a.memObjects.Load())
	}
	if a.chargeMemory(1, limit) {
		t.Fatal("a byte more than the limit was charged")
	}
	if a.chargeMemory(^uint64(0), rlimInf) {
		t.Fatal("an overflowing charge was accepted")
	}
}

// TestPickVictim checks the out-of-memory killer's rule: the biggest
// charge, but the first process and essential ones only when nothing else
// is left.
func TestPickVictim(t *testing.T) {
	a, b, first, ess := &Process{PID: 2}, &Process{PID: 3}, &Process{PID: 1}, &Process{PID: 4}
	cases := []struct {
		cs   []candidate
		want *Process
	}{
		{nil, nil},
		{[]candidate{{a, 10, false}, {b, 20, false}}, b},
		{[]candidate{{b, 20, false}, {a, 10, false}}, b},
		{[]candidate{{first, 1000, true}, {a, 10, false}}, a},
		{[]candidate{{a, 10, false}, {ess, 900, true}, {first, 1000, true}}, a},
		{[]candidate{{ess, 900, true}, {first, 1000, true}}, first},
		{[]candidate{{first, 1000, true}, {ess, 2000, true}}, ess},
	}
	for i, c := range cases {
		if got := pickVictim(c.cs).p; got != c.want {
			t.Errorf("case %d: picked %v, want %v", i, got, c.want)
		}
	}
}
