package main

import (
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Kernel buffers, exhausted: pipes live in the kernel, and each holds up
// to 64 KiB of data nobody reads. Several processes each open as many
// pipes as their descriptor table allows and fill every one. The kernel
// must hold each process's pipes to its quota (then a page a pipe), stay
// up, and leave the first process untouched. Before pipes were charged, a
// process held 32 MiB of kernel heap this way, and at 256 MiB of memory
// the out-of-memory killer, blind to it, chose among the hoarders by luck.

func init() {
	addTest("pipe-flood", testPipeFlood)
	addRole("pipe-hoarder", rolePipeHoarder)
}

const (
	pipeHoarders = 6
	pipeQuotaKiB = 16 << 10 // a process's pipes in all (microkernel/proc/pipe.go)
)

func testPipeFlood() error {
	var cmds []*exec.Cmd
	var outs []*strings.Builder
	for i := 0; i < pipeHoarders; i++ {
		cmd := exec.Command(self(), "role", "pipe-hoarder")
		out := &strings.Builder{}
		cmd.Stdout = out
		if err := cmd.Start(); err != nil {
			return err
		}
		cmds = append(cmds, cmd)
		outs = append(outs, out)
	}
	var report []string
	for i, cmd := range cmds {
		if err := waitWithin(cmd, generous); err != nil {
			return fmt.Errorf("hoarder %d: %v (it said %q)", i, err, outs[i].String())
		}
		said := strings.TrimSpace(outs[i].String())
		report = append(report, said)
		// Its pipes may hold the quota, then a page each.
		var pipes, kib int
		if _, err := fmt.Sscanf(said, "%d pipes, %d KiB", &pipes, &kib); err != nil {
			return fmt.Errorf("hoarder %d said %q", i, said)
		}
		if limit := pipeQuotaKiB + 4*pipes; kib > limit {
			return fmt.Errorf("hoarder %d filled %d pipes with %d KiB, beyond the %d KiB quota plus a page a pipe", i, pipes, kib, pipeQuotaKiB)
		}
	}
	fmt.Printf("attacks: pipe-flood: %s\n", strings.Join(report, "; "))
	// The kernel must have all of it back for the next writer.
	var p [2]int
	if err := syscall.Pipe2(p[:], 0); err != nil {
		return fmt.Errorf("a pipe after the flood: %v", err)
	}
	buf := make([]byte, 4096)
	if _, err := syscall.Write(p[1], buf); err != nil {
		return fmt.Errorf("a write after the flood: %v", err)
	}
	syscall.Close(p[0])
	syscall.Close(p[1])
	return nil
}

// rolePipeHoarder opens pipes until refused and fills each with what it
// takes without blocking, then reports and exits (letting them all go).
func rolePipeHoarder([]string) int {
	chunk := make([]byte, 64<<10)
	pipes, bytes := 0, 0
	var stop error
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var p [2]int
		if err := syscall.Pipe2(p[:], syscall.O_NONBLOCK); err != nil {
			stop = err
			break
		}
		pipes++
		for {
			n, err := syscall.Write(p[1], chunk)
			if n > 0 {
				bytes += n
			}
			if err != nil || n <= 0 {
				if err != syscall.EAGAIN {
					stop = err
				}
				break
			}
		}
		if stop != nil {
			break
		}
	}
	fmt.Printf("%d pipes, %d KiB (%v)", pipes, bytes>>10, stop)
	return 0
}
