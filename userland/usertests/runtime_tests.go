package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

func testArgsEnv() error {
	if len(os.Args) != 1 || os.Args[0] == "" {
		return fmt.Errorf("os.Args = %q", os.Args)
	}
	if os.Getenv("HOME") != "/" || os.Getenv("PATH") == "" {
		return fmt.Errorf("environment: HOME=%q PATH=%q", os.Getenv("HOME"), os.Getenv("PATH"))
	}
	if os.Getpid() <= 0 || os.Getppid() < 0 {
		return fmt.Errorf("pid %d ppid %d", os.Getpid(), os.Getppid())
	}
	if h, err := os.Hostname(); err != nil || h == "" {
		return fmt.Errorf("hostname %q: %v", h, err)
	}
	return nil
}

func testGoroutines() error {
	const n = 500
	var wg sync.WaitGroup
	var sum atomic.Int64
	ch := make(chan int, 16)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch <- i
		}()
	}
	go func() { wg.Wait(); close(ch) }()
	for v := range ch {
		sum.Add(int64(v))
	}
	if want := int64(n * (n - 1) / 2); sum.Load() != want {
		return fmt.Errorf("sum %d, want %d", sum.Load(), want)
	}
	// Mutex contention makes the runtime park threads on futexes.
	var mu sync.Mutex
	count := 0
	var wg2 sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			for j := 0; j < 1000; j++ {
				mu.Lock()
				count++
				mu.Unlock()
				if j%100 == 0 {
					runtime.Gosched()
				}
			}
		}()
	}
	wg2.Wait()
	if count != 8000 {
		return fmt.Errorf("count %d, want 8000", count)
	}
	return nil
}

func testMaps() error {
	m := map[int]string{}
	for i := 0; i < 50000; i++ {
		m[i] = fmt.Sprint(i)
	}
	for i := 0; i < 50000; i += 7 {
		if m[i] != fmt.Sprint(i) {
			return fmt.Errorf("m[%d] = %q", i, m[i])
		}
	}
	return nil
}

func testGC() error {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	keep := make([][]byte, 32)
	ids := make([]int, len(keep))
	for i := 0; i < 2000; i++ { // 128 MiB in 64 KiB pieces
		b := make([]byte, 64<<10)
		for j := 0; j < len(b); j += 512 {
			b[j] = byte(i + j>>9)
		}
		keep[i%len(keep)], ids[i%len(keep)] = b, i
		if i%200 == 0 {
			runtime.GC()
		}
	}
	for k, b := range keep {
		for j := 0; j < len(b); j += 512 {
			if b[j] != byte(ids[k]+j>>9) {
				return fmt.Errorf("live buffer %d (allocation %d) corrupted at offset %d", k, ids[k], j)
			}
		}
	}
	runtime.ReadMemStats(&after)
	if after.NumGC-before.NumGC < 10 {
		return fmt.Errorf("only %d GC cycles", after.NumGC-before.NumGC)
	}
	debug.FreeOSMemory() // madvise(MADV_DONTNEED) back to the kernel
	return nil
}

func testTimers() error {
	for _, d := range []time.Duration{time.Millisecond, 20 * time.Millisecond, 100 * time.Millisecond} {
		t0 := time.Now()
		time.Sleep(d)
		// Never early; late only within a bound that catches a lost
		// wake-up (speed is for benchmarks, not tests).
		if got := time.Since(t0); got < d || got > d+10*time.Second {
			return fmt.Errorf("Sleep(%v) took %v", d, got)
		}
	}
	select {
	case <-time.After(30 * time.Millisecond):
	case <-time.After(20 * time.Second):
		return errors.New("the shorter timer did not fire first")
	}
	tk := time.NewTicker(5 * time.Millisecond)
	defer tk.Stop()
	for i := 0; i < 5; i++ {
		<-tk.C
	}
	if time.Now().Year() < 2020 {
		return fmt.Errorf("wall clock says %v", time.Now())
	}
	return nil
}

// testPreempt: with one P, the main goroutine runs again only if the
// runtime preempts a goroutine spinning without calls, which takes a SIGURG
// the kernel delivers to the spinning thread.
func testPreempt() error {
	var stop atomic.Bool
	done := make(chan int64)
	go func() {
		var n int64
		for !stop.Load() {
			n++
		}
		done <- n
	}()
	time.Sleep(20 * time.Millisecond)
	runtime.GC()
	stop.Store(true)
	if n := <-done; n == 0 {
		return errors.New("the spinner never ran")
	}
	return nil
}

func testRecoverNil() (err error) {
	defer func() {
		r := recover()
		re, isRuntime := r.(runtime.Error)
		if !isRuntime || re.Error() != "runtime error: invalid memory address or nil pointer dereference" {
			err = fmt.Errorf("recovered %v, want a nil pointer runtime error", r)
		}
	}()
	var p *struct{ x int }
	p.x = 1
	return errors.New("no panic")
}
