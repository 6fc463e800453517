// Command ubench measures the costs of basic kernel operations from user
// space: a null system call (getppid), a futex ping-pong between two
// threads, spawning and waiting for a small program, a page fault on
// fresh anonymous memory, and an IPC call/reply round trip between two
// processes with 64-byte and 4 KiB payloads. Each figure is measured over several repetitions
// and reported with its minimum and median, one line per figure:
//
//	bench: <name> min <v> median <v> <unit> (<n> repetitions of <m> operations)
//
// The same static binary runs on Linux, so the figures can be compared.
// Every benchmark checks its own work (a ping-pong that loses a wake-up
// fails loudly instead of reporting a number).
package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

const reps = 5

type bench struct {
	name string
	ops  int
	unit string
	run  func(ops int) (time.Duration, error)
}

// benches common to both kernels.
var benches = []bench{
	{"null-syscall", 20000, "ns/op", nullSyscall},
	{"futex-pingpong", 2000, "us/round-trip", futexPingPong},
	{"pipe-pingpong", 1000, "us/round-trip", pipePingPong(1)},
	{"spawn-wait", 10, "ms/op", spawnWait},
	{"page-fault", 4096, "us/page", pageFault},
}

// ipcBenches are the IPC round trips: Valence's endpoints; on Linux the
// same payloads over a pipe and a Unix socket pair between two processes,
// of which the report keeps the fastest (with the futex ping-pong, which
// carries no payload).
var valenceIPC = []bench{
	{"ipc-64B", 2000, "us/round-trip", ipcRoundTrip(64)},
	{"ipc-4KiB", 1000, "us/round-trip", ipcRoundTrip(4096)},
}

var linuxIPC = []bench{
	{"ipc-64B/pipe", 1000, "us/round-trip", pipePingPong(64)},
	{"ipc-64B/unix", 1000, "us/round-trip", unixPingPong(64)},
	{"ipc-4KiB/pipe", 1000, "us/round-trip", pipePingPong(4096)},
	{"ipc-4KiB/unix", 1000, "us/round-trip", unixPingPong(4096)},
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "exit" {
		os.Exit(0)
	}
	if len(os.Args) > 1 && os.Args[1] == "ipc-server" {
		os.Exit(ipcServer())
	}
	if len(os.Args) == 4 && os.Args[1] == "pipe-child" {
		size, _ := strconv.Atoi(os.Args[2])
		ops, _ := strconv.Atoi(os.Args[3])
		os.Exit(pipeChild(size, ops))
	}
	fmt.Println("ubench: start")
	asLinuxInit()
	all := benches
	if onValence() {
		all = append(all, valenceIPC...)
	} else {
		all = append(all, linuxIPC...)
	}
	failed := false
	for _, b := range all {
		var ds []float64
		for r := 0; r < reps; r++ {
			d, err := b.run(b.ops)
			if err != nil {
				fmt.Printf("bench: %s FAILED: %v\n", b.name, err)
				failed = true
				break
			}
			ds = append(ds, scale(d, b.ops, b.unit))
		}
		if len(ds) < reps {
			continue
		}
		sort.Float64s(ds)
		fmt.Printf("bench: %s min %.3f median %.3f %s (%d repetitions of %d operations)\n",
			b.name, ds[0], ds[len(ds)/2], b.unit, reps, b.ops)
	}
	fmt.Println("ubench: done")
	if failed {
		powerOff()
		os.Exit(1)
	}
	powerOff()
}

func scale(d time.Duration, ops int, unit string) float64 {
	per := float64(d.Nanoseconds()) / float64(ops)
	switch unit {
	case "us/round-trip", "us/page":
		return per / 1e3
	case "ms/op":
		return per / 1e6
	}
	return per
}

func nullSyscall(ops int) (time.Duration, error) {
	ppid := os.Getppid()
	t0 := time.Now()
	for i := 0; i < ops; i++ {
		r, _, _ := syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
		if int(r) != ppid {
			return 0, fmt.Errorf("getppid returned %d, want %d", r, ppid)
		}
	}
	return time.Since(t0), nil
}

// futexPingPong passes a token between two OS threads through a futex
// word: each side waits for its value and wakes the other.
func futexPingPong(ops int) (time.Duration, error) {
	var word uint32 // 0: ping's turn, 1: pong's turn
	addr := uintptr(unsafe.Pointer(&word))
	wait := func(v uint32) {
		for atomic.LoadUint32(&word) == v {
			syscall.Syscall6(syscall.SYS_FUTEX, addr, 0 /* FUTEX_WAIT */, uintptr(v), 0, 0, 0)
		}
	}
	wake := func() { syscall.Syscall6(syscall.SYS_FUTEX, addr, 1 /* FUTEX_WAKE */, 1, 0, 0, 0) }
	done := make(chan int)
	go func() {
		runtime.LockOSThread()
		n := 0
		for i := 0; i < ops; i++ {
			wait(0)
			n++
			atomic.StoreUint32(&word, 0)
			wake()
		}
		done <- n
	}()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0 := time.Now()
	for i := 0; i < ops; i++ {
		atomic.StoreUint32(&word, 1)
		wake()
		wait(1)
	}
	d := time.Since(t0)
	if n := <-done; n != ops {
		return 0, fmt.Errorf("pong saw %d of %d pings", n, ops)
	}
	return d, nil
}

func spawnWait(ops int) (time.Duration, error) {
	self := executable()
	t0 := time.Now()
	for i := 0; i < ops; i++ {
		p, err := os.StartProcess(self, []string{"ubench", "exit"}, &os.ProcAttr{Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}})
		if err != nil {
			return 0, err
		}
		st, err := p.Wait()
		if err != nil || !st.Success() {
			return 0, fmt.Errorf("child: %v %v", st, err)
		}
	}
	return time.Since(t0), nil
}

func pageFault(ops int) (time.Duration, error) {
	b, err := syscall.Mmap(-1, 0, ops*4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return 0, err
	}
	defer syscall.Munmap(b)
	t0 := time.Now()
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	d := time.Since(t0)
	for i := 0; i < len(b); i += 4096 {
		if b[i] != 1 {
			return 0, fmt.Errorf("page %d lost its write", i/4096)
		}
	}
	return d, nil
}
