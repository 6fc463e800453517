package selftest

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// sleepReport describes the sleep check's measurements.
var sleepReport string

// A check is one named self-test.
type check struct {
	name string
	run  func() error
}

var checks = []check{
	{"goroutines", goroutines},
	{"channels", channels},
	{"maps", maps},
	{"gc", gc},
	{"sleep", sleep},
	{"preempt", preempt},
	{"syscalls", syscalls},
	{"wx", wx},
}

// Run runs every check, writing progress to w, and reports whether all
// passed.
func Run(w io.Writer) bool {
	start := time.Now()
	for _, c := range checks {
		t0 := time.Now()
		if err := c.run(); err != nil {
			fmt.Fprintf(w, "selftest: FAIL %s: %v\n", c.name, err)
			return false
		}
		fmt.Fprintf(w, "selftest: %s: ok (%v)\n", c.name, time.Since(t0).Round(time.Millisecond))
		if c.name == "sleep" {
			fmt.Fprintf(w, "selftest: sleep: lateness %s\n", sleepReport)
		}
	}
	fmt.Fprintf(w, "selftest: PASS (%v)\n", time.Since(start).Round(time.Millisecond))
	return true
}

// goroutines starts many goroutines that each compute a share of a sum.
func goroutines() error {
	const n = 200
	var wg sync.WaitGroup
	var total atomic.Int64
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s := 0
			for j := 0; j <= i; j++ {
				s += j
			}
			runtime.Gosched()
			total.Add(int64(s))
		}(i)
	}
	wg.Wait()
	want := int64(0)
	for i := 0; i < n; i++ {
		want += int64(i * (i + 1) / 2)
	}
	if total.Load() != want {
		return fmt.Errorf("sum %d, want %d", total.Load(), want)
	}
	return nil
}

// channels passes messages through a pipeline of goroutines, unbuffered
// and buffered, and checks select with a timeout.
func channels() error {
	const stages, msgs = 8, 5000
	first := make(chan int)
	in := first
	for s := 0; s < stages; s++ {
		out := make(chan int, s%3)
		go func(in <-chan int, out chan<- int) {
			for v := range in {
				out <- v + 1
			}
			close(out)
		}(in, out)
		in = out
	}
	go func() {
		for i := 0; i < msgs; i++ {
			first <- i
		}
		close(first)
	}()
	n := 0
	for v := range in {
		if v != n+stages {
			return fmt.Errorf("message %d arrived as %d", n, v)
		}
		n++
	}
	if n != msgs {
		return fmt.Errorf("%d of %d messages arrived", n, msgs)
	}
	never := make(chan int)
	select {
	case <-never:
		return errors.New("received from a channel nobody sends on")
	case <-time.After(5 * time.Millisecond):
	}
	return nil
}

// maps fills, checks and empties a large map.
func maps() error {
	const n = 100000
	m := make(map[string]int)
	for i := 0; i < n; i++ {
		m[fmt.Sprintf("key-%d", i)] = i * 7
	}
	for i := 0; i < n; i += 97 {
		if v, ok := m[fmt.Sprintf("key-%d", i)]; !ok || v != i*7 {
			return fmt.Errorf("m[key-%d] = %d, %v", i, v, ok)
		}
	}
	for i := 0; i < n; i += 2 {
		delete(m, fmt.Sprintf("key-%d", i))
	}
	if len(m) != n/2 {
		return fmt.Errorf("len = %d after deletes, want %d", len(m), n/2)
	}
	return nil
}

// gc allocates at least 256 MiB in total, keeping a rotating set of live
// buffers with known contents, across at least 50 collections, and checks
// that no live buffer was corrupted or freed early.
func gc() error {
	const total, chunk, live = 256 << 20, 64 << 10, 64
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	keep := make([][]byte, live)
	sums := make([]byte, live)
	rng := rand.New(rand.NewPCG(1, 2))
	for allocated := 0; allocated < total; allocated += chunk {
		i := rng.IntN(live)
		if keep[i] != nil && checksum(keep[i]) != sums[i] {
			return fmt.Errorf("live buffer %d corrupted after %d MiB", i, allocated>>20)
		}
		b := make([]byte, chunk)
		fill := byte(rng.Uint32())
		for j := range b {
			b[j] = fill + byte(j)
		}
		keep[i], sums[i] = b, checksum(b)
		if allocated%(4<<20) == 0 {
			runtime.GC() // make sure there are many cycles whatever GOGC says
		}
	}
	for i, b := range keep {
		if b != nil && checksum(b) != sums[i] {
			return fmt.Errorf("live buffer %d corrupted at the end", i)
		}
	}
	runtime.ReadMemStats(&after)
	cycles := after.NumGC - before.NumGC
	alloc := after.TotalAlloc - before.TotalAlloc
	if cycles < 50 || alloc < total {
		return fmt.Errorf("%d GC cycles and %d MiB allocated; want >= 50 and >= 256", cycles, alloc>>20)
	}
	debug.FreeOSMemory()
	return nil
}

func checksum(b []byte) byte {
	var s byte
	for i, c := range b {
		s ^= c + byte(i>>8)
	}
	return s
}

// sleep checks that time.Sleep never returns early, and reports how late
// it was. Lateness is only bounded loosely (to catch a lost wake-up, not to
// measure): the emulator shares its machine, and speed is measured by
// benchmarks, not asserted.
func sleep() error {
	var late []string
	for _, d := range []time.Duration{time.Millisecond, 10 * time.Millisecond, 50 * time.Millisecond, 200 * time.Millisecond} {
		t0 := time.Now()
		time.Sleep(d)
		got := time.Since(t0)
		if got < d {
			return fmt.Errorf("Sleep(%v) returned after %v", d, got)
		}
		if got > d+10*time.Second {
			return fmt.Errorf("Sleep(%v) took %v: a lost wake-up?", d, got)
		}
		late = append(late, fmt.Sprintf("%v+%v", d, (got-d).Round(10*time.Microsecond)))
	}
	sleepReport = strings.Join(late, " ")
	// Timers firing concurrently, in deadline order.
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := 5; i >= 1; i-- {
		wg.Add(1)
		time.AfterFunc(time.Duration(i)*20*time.Millisecond, func() {
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			wg.Done()
		})
	}
	wg.Wait()
	for i, v := range order {
		if v != i+1 {
			return fmt.Errorf("timers fired in order %v", order)
		}
	}
	return nil
}

// preempt starts a goroutine that spins in a loop without calls; with one
// P, the main goroutine runs again only if the runtime preempts the
// spinner asynchronously (a SIGURG the kernel delivers). Then it forces a
// GC, which must stop the spinner too.
func preempt() error {
	var stop atomic.Bool
	var spins atomic.Int64
	done := make(chan int64)
	go func() {
		n := int64(0)
		for !stop.Load() {
			n++
		}
		done <- n
	}()
	time.Sleep(20 * time.Millisecond)
	var st runtime.MemStats
	runtime.ReadMemStats(&st)
	before := st.NumGC
	runtime.GC()
	runtime.ReadMemStats(&st)
	if st.NumGC <= before {
		return errors.New("GC did not complete while a goroutine spun")
	}
	stop.Store(true)
	spins.Store(<-done)
	if spins.Load() == 0 {
		return errors.New("the spinning goroutine never ran")
	}
	return nil
}
