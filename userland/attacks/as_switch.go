package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// Address-space switching, attacked by sheer traffic: several processes
// run the same binary, so the same virtual address means something
// different in each. Each guard writes its own identity at one fixed
// address and reads it back from several threads, while processes are
// started, killed and exec'd around it. A thread the kernel ever resumes
// in another process's address space reads a foreign identity (or, more
// often, crashes on a foreign stack); either way its guard fails.
//
// The kernel once loaded CR3 in Go code before entering ring 3, and a
// goroutine preempted in between entered ring 3 with whatever address
// space another thread had loaded meanwhile (the flake behind rare
// "SIGSEGV at 0x0 (rip 0x0)" deaths of freshly started programs).

func init() {
	addTest("as-switch", testASSwitch)
	addRole("as-guard", roleASGuard)
}

// identity is where each guard keeps its identity: a global, so at the
// same virtual address in every process running this binary.
var identity [512]uint64

func testASSwitch() error {
	d := time.Duration(envInt("AS_SWITCH_MS", 4000)) * time.Millisecond
	var guards []*exec.Cmd
	for id := 1; id <= 3; id++ {
		cmd := exec.Command(self(), "role", "as-guard", strconv.Itoa(id), strconv.Itoa(int(d/time.Millisecond)))
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			return err
		}
		guards = append(guards, cmd)
	}
	// Churn: guards killed at random points of their lives, and short
	// programs exec'd, so that address spaces come and go all the time.
	deadline := time.Now().Add(d)
	churned := 0
	for i := 0; time.Now().Before(deadline); i++ {
		victim := exec.Command(self(), "role", "as-guard", strconv.Itoa(100+i), "60000")
		victim.Stdout, victim.Stderr = os.Stderr, os.Stderr
		if err := victim.Start(); err != nil {
			return err
		}
		if err := exec.Command(self(), "role", "exit").Run(); err != nil {
			return fmt.Errorf("a short program: %v", err)
		}
		time.Sleep(time.Duration(10+i%7*10) * time.Millisecond)
		victim.Process.Kill()
		err := waitWithin(victim, generous)
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return fmt.Errorf("killed guard %d: %v", 100+i, err)
		}
		ws := ee.Sys().(syscall.WaitStatus)
		if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			return fmt.Errorf("killed guard %d ended otherwise: %v", 100+i, ee)
		}
		churned++
	}
	for i, g := range guards {
		if err := waitWithin(g, generous+d); err != nil {
			return fmt.Errorf("guard %d (%d guards killed meanwhile): %v", i+1, churned, err)
		}
	}
	return nil
}

// roleASGuard stores its identity in identity and checks it from four
// threads for ms milliseconds.
func roleASGuard(args []string) int {
	if len(args) != 2 {
		return 2
	}
	id, _ := strconv.ParseUint(args[0], 10, 64)
	ms, _ := strconv.Atoi(args[1])
	runtime.GOMAXPROCS(4)
	page := &identity
	for i := range page {
		atomic.StoreUint64(&page[i], id)
	}
	deadline := time.Now().Add(time.Duration(ms) * time.Millisecond)
	var bad atomic.Uint64
	done := make(chan struct{})
	for w := 0; w < 4; w++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for n := 0; ; n++ {
				for i := range page {
					if v := atomic.LoadUint64(&page[i]); v != id {
						bad.Store(v | 1<<63)
						return
					}
				}
				if n%64 == 0 {
					if syscall.Getpid() != os.Getpid() || time.Now().After(deadline) {
						return
					}
				}
			}
		}()
	}
	for w := 0; w < 4; w++ {
		<-done
	}
	if v := bad.Load(); v != 0 {
		fmt.Fprintf(os.Stderr, "as-guard %d: read identity %d at %p: another address space\n", id, v&^(1<<63), page)
		return 3
	}
	return 0
}
