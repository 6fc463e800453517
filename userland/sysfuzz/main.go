// Command sysfuzz throws random system calls at the kernel and checks that
// it survives them: every bad argument must end as an error, or at worst
// as the death of the calling process, never as a kernel panic or a leak.
//
//	sysfuzz [-time 45s] [-min-calls N] [-calls 1000] [-seed N]
//
// Run as the first process (make run CMDLINE=init=/bin/sysfuzz), it is a
// supervisor: it starts itself again and again as a child with -child and
// a fresh seed, kills any child that has not finished its calls in
// -timeout (a random call may block forever, which is correct), and
// counts how children ended. When -time is up (and at least -min-calls
// calls were made by children that finished) it checks that the user
// pages every child held have come back and prints "sysfuzz: PASS".
// Each child runs its calls on four threads at once, so they race on the
// same descriptors, handles and mappings.
//
// A child closes its standard descriptors first, so that nothing it does
// reaches the console, then makes -calls calls chosen from the system
// calls the kernel implements, Linux and native, with arguments drawn
// from values kernels get wrong: zero, -1, boundaries, pointers to its
// own buffers, to strings that are paths, to arrays of them, to unmapped
// and kernel memory, descriptors it has opened, and random words. A few
// calls are tamed so that the child cannot hurt anyone but itself: kill
// and friends only name its own process, and spawn only runs /bin/hello.
// It exits 0 when it has made its calls; dying of a signal on the way
// (say after unmapping its own heap) is an outcome, not a failure.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"valence.dev/ipc"
	"valence.dev/libos"
)

func main() {
	child := flag.Bool("child", false, "run one batch of calls (internal)")
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()), "first seed")
	calls := flag.Int("calls", 1000, "calls per child")
	budget := flag.Duration("time", 45*time.Second, "how long to keep starting children")
	minCalls := flag.Int("min-calls", 0, "keep starting children until their calls add up to this")
	timeout := flag.Duration("timeout", 4*time.Second, "kill a child that runs longer than this")
	flag.Parse()
	if *child {
		runChild(*seed, *calls)
		os.Exit(0)
	}
	if err := supervise(*seed, *calls, *minCalls, *budget, *timeout); err != nil {
		fmt.Printf("sysfuzz: FAIL %v\n", err)
		os.Exit(1)
	}
	fmt.Println("sysfuzz: PASS")
}

// outcomes counts how children ended.
type outcomes struct {
	children, finished, signalled, timedOut, other int
	calls                                          int
}

func supervise(seed uint64, calls, minCalls int, budget, timeout time.Duration) error {
	self, err := os.Executable()
	if err != nil || self == "" {
		self = "/bin/sysfuzz"
	}
	before, err := libos.MemInfo()
	if err != nil {
		return fmt.Errorf("meminfo: %v", err)
	}
	fmt.Printf("sysfuzz: seed %d, %d calls per child, for %v and at least %d calls\n", seed, calls, budget, minCalls)
	var o outcomes
	deadline := time.Now().Add(budget)
	for i := uint64(0); time.Now().Before(deadline) || o.calls < minCalls; i++ {
		if i > 0 && i%500 == 0 {
			fmt.Printf("sysfuzz: %d children, about %d calls so far\n", o.children, o.calls)
		}
		s := seed + i
		if err := runOne(self, s, calls, timeout, &o); err != nil {
			return fmt.Errorf("child with seed %d: %v", s, err)
		}
	}
	fmt.Printf("sysfuzz: %d children: %d finished their calls, %d died of a signal, %d timed out, %d other; about %d calls\n",
		o.children, o.finished, o.signalled, o.timedOut, o.other, o.calls)
	if o.finished == 0 {
		return errors.New("no child finished its calls: the fuzzer is not exercising the kernel")
	}
	return checkMemory(before)
}

// runOne runs one child to its end.
func runOne(self string, seed uint64, calls int, timeout time.Duration, o *outcomes) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, "-child", fmt.Sprint("-seed=", seed), fmt.Sprint("-calls=", calls))
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start: %v", err)
	}
	err := cmd.Wait()
	o.children++
	var ee *exec.ExitError
	switch {
	case err == nil:
		o.finished++
		o.calls += calls
	case ctx.Err() != nil:
		o.timedOut++
	case errors.As(err, &ee):
		if st, ok := ee.Sys().(syscall.WaitStatus); ok && st.Signaled() {
			o.signalled++
		} else {
			o.other++ // say, exit_group with a random status
		}
	default:
		return fmt.Errorf("wait: %v", err)
	}
	return nil
}

// checkMemory requires the pages user processes other than this one hold
// to be back where they were. Orphaned grandchildren (hello, run by spawn)
// may still be finishing, so it gives them a few seconds.
func checkMemory(before ipc.MemInfo) error {
	others := func(m ipc.MemInfo) uint64 { return m.UserPages - m.Self }
	var after ipc.MemInfo
	for try := 0; try < 50; try++ {
		var err error
		if after, err = libos.MemInfo(); err != nil {
			return fmt.Errorf("meminfo: %v", err)
		}
		if others(after) == others(before) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	fmt.Printf("sysfuzz: pages held by other processes %d -> %d KiB; free %d -> %d KiB\n",
		others(before)>>10, others(after)>>10, before.Free>>10, after.Free>>10)
	if others(after) != others(before) {
		return fmt.Errorf("user pages leaked: other processes held %d KiB before and %d KiB after", others(before)>>10, others(after)>>10)
	}
	// The kernel's own heap may grow a little; a leak per child would not.
	if before.Free > after.Free && before.Free-after.Free > 32<<20 {
		return fmt.Errorf("free memory went from %d to %d KiB", before.Free>>10, after.Free>>10)
	}
	return nil
}
