package main

import (
	"bufio"
	"fmt"
	"math/rand"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// quiet is how long a stopped child must stay silent.
const quiet = 300 * time.Millisecond

// stopped checks that a child beating on hb is stopped: after what it
// wrote before the stop, nothing for a while, and /proc says 'T'.
func stopped(pid int, hb *heartbeat) error {
	hb.beats(50 * time.Millisecond) // written before the stop
	if n := hb.beats(quiet); n != 0 {
		return fmt.Errorf("a stopped child wrote %d bytes in %v", n, quiet)
	}
	if f, err := procStat(pid); err != nil || f[3] != "T" {
		return fmt.Errorf("/proc/%d/stat state %q, %v; want T", pid, f[3:4], err)
	}
	return nil
}

// running checks that a child beating on hb runs.
func running(hb *heartbeat) error {
	if !hb.alive(5 * time.Second) {
		return fmt.Errorf("the child does not run")
	}
	return nil
}

func beating(attr *syscall.SysProcAttr, role string, args ...string) (int, *heartbeat, error) {
	hb, err := newHeartbeat()
	if err != nil {
		return 0, nil, err
	}
	pid, err := child{attr: attr, extra: []*os.File{hb.w}}.start(role, args...)
	hb.w.Close()
	if err != nil {
		hb.r.Close()
		return 0, nil, err
	}
	return pid, hb, running(hb)
}

// stop-continue: SIGSTOP, SIGTSTP and SIGTTIN stop a child with all its
// threads; the parent hears (SIGCHLD, wait4 WUNTRACED once, waitid
// WSTOPPED with CLD_STOPPED, WNOWAIT leaving it); SIGCONT, to the child
// or its group, continues it (wait4 WCONTINUED, waitid CLD_CONTINUED);
// signals sent while it is stopped wait for the continue.
func testStopContinue() error {
	chld := make(chan os.Signal, 64)
	signal.Notify(chld, syscall.SIGCHLD)
	defer signal.Stop(chld)
	pid, hb, err := beating(inGroup(0), "beat")
	if hb != nil {
		defer hb.r.Close()
	}
	if err != nil {
		return err
	}
	drain := func() {
		for len(chld) > 0 {
			<-chld
		}
	}
	sigchld := func(what string) error {
		select {
		case <-chld:
			return nil
		case <-time.After(5 * time.Second):
			return fmt.Errorf("no SIGCHLD for %s", what)
		}
	}
	drain()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		return err
	}
	if err := expectStop(pid, syscall.SIGSTOP); err != nil {
		return err
	}
	if err := sigchld("the stop"); err != nil {
		return err
	}
	if err := stopped(pid, hb); err != nil {
		return err
	}
	if wpid, ws, err := wait4(pid, syscall.WUNTRACED|syscall.WNOHANG); wpid != 0 || err != nil {
		return fmt.Errorf("a second wait4 WUNTRACED = %d, %s, %v; the stop is reported once", wpid, describe(ws), err)
	}
	if info, err := waitid(unix.P_PID, pid, unix.WSTOPPED|unix.WNOHANG); err != nil || info.pid != 0 {
		return fmt.Errorf("waitid WSTOPPED after wait4 took the stop = %+v, %v; want nothing", info, err)
	}
	drain()
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		return err
	}
	if wpid, ws, err := wait4(pid, syscall.WCONTINUED); err != nil || wpid != pid || !ws.Continued() {
		return fmt.Errorf("wait4 WCONTINUED = %d, %s, %v; want continued", wpid, describe(ws), err)
	}
	if err := sigchld("the continue"); err != nil {
		return err
	}
	if err := running(hb); err != nil {
		return err
	}
	for _, sig := range []syscall.Signal{syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU} {
		if err := syscall.Kill(pid, sig); err != nil {
			return err
		}
		// waitid with WNOWAIT leaves the stop to be waited for again.
		for range 2 {
			info, err := waitid(unix.P_PID, pid, unix.WSTOPPED|unix.WNOWAIT)
			if err != nil || int(info.pid) != pid || info.code != cldStopped || info.status != int32(sig) ||
				info.signo != int32(syscall.SIGCHLD) {
				return fmt.Errorf("waitid WSTOPPED|WNOWAIT after %v = %+v, %v", sig, info, err)
			}
		}
		if err := expectStop(pid, sig); err != nil {
			return err
		}
		if err := stopped(pid, hb); err != nil {
			return err
		}
		// Continued through its group.
		if err := syscall.Kill(-pid, syscall.SIGCONT); err != nil {
			return err
		}
		info, err := waitid(unix.P_PID, pid, unix.WCONTINUED)
		if err != nil || int(info.pid) != pid || info.code != cldContinued || info.status != int32(syscall.SIGCONT) {
			return fmt.Errorf("waitid WCONTINUED = %+v, %v", info, err)
		}
		if err := running(hb); err != nil {
			return err
		}
	}
	// A signal the child handles waits while it is stopped: Go's SIGTERM
	// handler ends it only once it is continued.
	syscall.Kill(pid, syscall.SIGSTOP)
	if err := expectStop(pid, syscall.SIGSTOP); err != nil {
		return err
	}
	syscall.Kill(pid, syscall.SIGTERM)
	time.Sleep(quiet)
	if wpid, ws, err := wait4(pid, syscall.WNOHANG); wpid != 0 {
		return fmt.Errorf("a stopped child with a SIGTERM handler ended before SIGCONT: %s, %v", describe(ws), err)
	}
	syscall.Kill(pid, syscall.SIGCONT)
	return expectDeath(pid, syscall.SIGTERM, 0)
}

// stop-caught: SIGTSTP caught or ignored does not stop; SIGSTOP cannot
// be caught; a stopped child whose SIGTERM has its default action does
// not end when sent one (only SIGKILL ends a stopped process), but once
// continued.
func testStopCaught() error {
	for _, r := range []string{"beat-catching", "beat-ignoring"} {
		pid, hb, err := beating(inGroup(0), r, strconv.Itoa(int(syscall.SIGTSTP)))
		if hb != nil {
			defer hb.r.Close()
		}
		if err != nil {
			return err
		}
		syscall.Kill(pid, syscall.SIGTSTP)
		time.Sleep(100 * time.Millisecond)
		if wpid, ws, _ := wait4(pid, syscall.WUNTRACED|syscall.WNOHANG); wpid != 0 {
			return fmt.Errorf("%s SIGTSTP: %s", r, describe(ws))
		}
		if err := running(hb); err != nil {
			return fmt.Errorf("%s SIGTSTP: %v", r, err)
		}
		syscall.Kill(pid, syscall.SIGSTOP)
		if err := expectStop(pid, syscall.SIGSTOP); err != nil {
			return fmt.Errorf("%s SIGTSTP, then SIGSTOP: %v", r, err)
		}
		syscall.Kill(pid, syscall.SIGKILL)
		if err := expectDeath(pid, syscall.SIGKILL, 0); err != nil {
			return err
		}
	}
	pid, hb, err := beating(inGroup(0), "beat-default", strconv.Itoa(int(syscall.SIGTERM)))
	if hb != nil {
		defer hb.r.Close()
	}
	if err != nil {
		return err
	}
	syscall.Kill(pid, syscall.SIGSTOP)
	if err := expectStop(pid, syscall.SIGSTOP); err != nil {
		return err
	}
	syscall.Kill(pid, syscall.SIGTERM)
	time.Sleep(quiet)
	if wpid, ws, _ := wait4(pid, syscall.WNOHANG); wpid != 0 {
		return fmt.Errorf("a stopped child ended of SIGTERM before SIGCONT: %s", describe(ws))
	}
	syscall.Kill(pid, syscall.SIGCONT)
	return expectDeath(pid, syscall.SIGTERM, 0)
}

// stop-kill: SIGKILL ends a stopped child, one whose threads were
// blocked in system calls too.
func testStopKill() error {
	for _, r := range []string{"beat", "sleep"} {
		var pid int
		var err error
		if r == "beat" {
			var hb *heartbeat
			pid, hb, err = beating(inGroup(0), r)
			if hb != nil {
				defer hb.r.Close()
			}
		} else {
			pid, err = child{attr: inGroup(0)}.start(r)
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			return err
		}
		syscall.Kill(pid, syscall.SIGSTOP)
		if err := expectStop(pid, syscall.SIGSTOP); err != nil {
			return err
		}
		syscall.Kill(pid, syscall.SIGKILL)
		if err := expectDeath(pid, syscall.SIGKILL, 0); err != nil {
			return fmt.Errorf("%s: %v", r, err)
		}
	}
	// A sleeping child stopped and continued goes on sleeping, then is
	// still there to be ended.
	pid, err := child{attr: inGroup(0)}.start("sleep")
	if err != nil {
		return err
	}
	time.Sleep(100 * time.Millisecond)
	syscall.Kill(pid, syscall.SIGTSTP)
	if err := expectStop(pid, syscall.SIGTSTP); err != nil {
		return err
	}
	syscall.Kill(pid, syscall.SIGCONT)
	time.Sleep(100 * time.Millisecond)
	if wpid, ws, _ := wait4(pid, syscall.WNOHANG); wpid != 0 {
		return fmt.Errorf("a continued sleeper ended: %s", describe(ws))
	}
	syscall.Kill(pid, syscall.SIGKILL)
	return expectDeath(pid, syscall.SIGKILL, 0)
}

// stop-races: stops and continues sent from several threads while
// another waits for the reports, then a final continue (the child must
// run), then SIGKILL raced with more stops and continues (it must die of
// it), and kills from several threads at once.
func testStopRaces() error {
	pid, hb, err := beating(inGroup(0), "beat")
	if hb != nil {
		defer hb.r.Close()
	}
	if err != nil {
		return err
	}
	signals := []syscall.Signal{syscall.SIGSTOP, syscall.SIGCONT, syscall.SIGTSTP, syscall.SIGCONT, syscall.SIGTTIN}
	race := func(d time.Duration, senders int) {
		var wg sync.WaitGroup
		end := time.Now().Add(d)
		for i := range senders {
			wg.Add(1)
			go func(seed int64) {
				defer wg.Done()
				r := rand.New(rand.NewSource(seed))
				for time.Now().Before(end) {
					syscall.Kill(pid, signals[r.Intn(len(signals))])
					if r.Intn(4) == 0 {
						syscall.Kill(-pid, signals[r.Intn(len(signals))])
					}
				}
			}(int64(i))
		}
		wg.Wait()
	}
	var reports [2]int
	var bad error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for end := time.Now().Add(2 * time.Second); time.Now().Before(end); {
			wpid, ws, err := wait4(pid, syscall.WUNTRACED|syscall.WCONTINUED|syscall.WNOHANG)
			switch {
			case err != nil:
				bad = fmt.Errorf("wait4 while racing: %v", err)
				return
			case wpid == 0:
				time.Sleep(time.Millisecond)
			case ws.Stopped():
				reports[0]++
			case ws.Continued():
				reports[1]++
			default:
				bad = fmt.Errorf("wait4 while racing: %s", describe(ws))
				return
			}
		}
	}()
	race(2*time.Second, 4)
	<-done
	if bad != nil {
		return bad
	}
	if reports[0] == 0 {
		return fmt.Errorf("no stop was reported while racing")
	}
	syscall.Kill(pid, syscall.SIGCONT)
	if err := running(hb); err != nil {
		return fmt.Errorf("after the race and a SIGCONT (%d stops and %d continues reported): %v", reports[0], reports[1], err)
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		syscall.Kill(pid, syscall.SIGKILL)
	}()
	race(300*time.Millisecond, 3)
	if err := expectDeath(pid, syscall.SIGKILL, 0); err != nil {
		return err
	}
	// Kills from several threads at once, at a stopped child.
	pid, err = child{attr: inGroup(0)}.start("sleep")
	if err != nil {
		return err
	}
	syscall.Kill(pid, syscall.SIGSTOP)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			syscall.Kill(pid, syscall.SIGKILL)
			syscall.Kill(pid, syscall.SIGCONT)
		}()
	}
	wg.Wait()
	return expectDeath(pid, syscall.SIGKILL, 0)
}

// orphaned-stop: a child stops its own child in its group and exits: the
// group, orphaned with a stopped member, gets SIGHUP and SIGCONT (as on
// Linux), which ends the grandchild, or continues it if it ignores
// SIGHUP.
func testOrphanedStop() error {
	for _, mode := range []string{"die", "survive"} {
		hb, err := newHeartbeat()
		if err != nil {
			return err
		}
		defer hb.r.Close()
		rr, rw, err := os.Pipe()
		if err != nil {
			return err
		}
		m, err := child{attr: inGroup(0), extra: []*os.File{hb.w, rw}}.start("orphan-parent", mode)
		hb.w.Close()
		rw.Close()
		if err != nil {
			return err
		}
		if err := expectDeath(m, 0, 0); err != nil {
			return fmt.Errorf("%s: the middle process: %v", mode, err)
		}
		line, err := bufio.NewReader(rr).ReadString('\n')
		rr.Close()
		g, _ := strconv.Atoi(strings.TrimSpace(line))
		if err != nil || g <= 0 {
			return fmt.Errorf("%s: no grandchild reported: %q %v", mode, line, err)
		}
		if mode == "die" {
			if !hb.closed(10 * time.Second) {
				syscall.Kill(g, syscall.SIGKILL)
				return fmt.Errorf("the stopped grandchild in the orphaned group did not die of SIGHUP")
			}
			continue
		}
		if err := running(hb); err != nil {
			syscall.Kill(g, syscall.SIGKILL)
			return fmt.Errorf("the grandchild ignoring SIGHUP was not continued: %v", err)
		}
		if err := syscall.Kill(g, syscall.SIGKILL); err != nil {
			return fmt.Errorf("killing the orphan: %v", err)
		}
		if !hb.closed(10 * time.Second) {
			return fmt.Errorf("the orphan lives on after SIGKILL")
		}
	}
	return nil
}
