package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"mvdan.cc/sh/v3/interp"
)

// lookup finds a job by a POSIX job ID (XBD 3.204): %%, %+ or % for the
// current job, %- for the previous one, %n by number, %string by the start
// of its command, %?string by a part of it. t.mu is held.
func (t *jobTable) lookup(spec string) (*job, error) {
	n := len(t.recent)
	switch spec {
	case "%%", "%+", "%", "":
		if n == 0 {
			return nil, errors.New("no current job")
		}
		return t.recent[n-1], nil
	case "%-":
		if n < 2 {
			return nil, errors.New("no previous job")
		}
		return t.recent[n-2], nil
	}
	if !strings.HasPrefix(spec, "%") {
		return nil, fmt.Errorf("%s: not a job ID", spec)
	}
	want := spec[1:]
	if id, err := strconv.Atoi(want); err == nil {
		for _, j := range t.jobs {
			if j.id == id {
				return j, nil
			}
		}
		return nil, fmt.Errorf("%s: no such job", spec)
	}
	var found *job
	for _, j := range t.jobs {
		text := j.describe()
		match := strings.HasPrefix(text, want)
		if sub, ok := strings.CutPrefix(want, "?"); ok {
			match = strings.Contains(text, sub)
		}
		if match {
			if found != nil {
				return nil, fmt.Errorf("%s: ambiguous job", spec)
			}
			found = j
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%s: no such job", spec)
	}
	return found, nil
}

// jobByPid finds the job holding process pid. t.mu is held.
func (t *jobTable) jobByPid(pid int) *job {
	for _, j := range t.jobs {
		for _, p := range j.procs {
			if p.pid == pid {
				return j
			}
		}
	}
	return nil
}

// signalJob sends sig to j's process group (each process without job
// control). A stopped job also gets SIGCONT after a signal that should end
// it, so that it can act on it, as other shells do. t.mu is held.
func (t *jobTable) signalJob(j *job, sig syscall.Signal) error {
	sigs := []syscall.Signal{sig}
	if j.stopped() && sig != syscall.SIGCONT && sig != syscall.SIGSTOP && sig != syscall.SIGTSTP && sig != 0 {
		sigs = append(sigs, syscall.SIGCONT)
	}
	var err error
	for _, s := range sigs {
		if j.pgid != 0 {
			err = syscall.Kill(-j.pgid, s)
			continue
		}
		for _, p := range j.procs {
			if p.state != procExited {
				if e := syscall.Kill(p.pid, s); e != nil {
					err = e
				}
			}
		}
	}
	return err
}

// continueJob resumes j with SIGCONT, in the foreground (giving it the
// terminal and the modes it had when it stopped) or the background.
func (t *jobTable) continueJob(j *job, fg bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	j.fg, j.reportedStop = fg, false
	if fg && t.tty != nil && j.pgid != 0 && len(j.procs) > 0 && !j.complete() {
		if err := t.tty.setForeground(j.pgid); err != nil {
			j.fg = false
			return err
		}
		if j.modes != nil {
			t.tty.setModes(j.modes)
		}
	}
	t.makeCurrent(j)
	err := t.signalJob(j, syscall.SIGCONT)
	for _, p := range j.procs {
		if p.state == procStopped {
			p.state = procRunning // wait4 reports CLD_CONTINUED later, if at all
		}
	}
	t.broadcast()
	return err
}

// awaitJob waits until j completes or stops, or ctx ends (SIGINT to the
// shell). It returns j's status and, when j completed, forgets it.
func (t *jobTable) awaitJob(ctx context.Context, j *job) (code int, stopped bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for {
		switch {
		case j.complete():
			j.collected = true
			t.remove(j)
			for _, p := range j.procs {
				if p.fgDeath {
					return 130, false, errForegroundInterrupt
				}
			}
			return j.exitCode(), false, nil
		case j.stopped():
			for _, p := range j.procs {
				if p.state == procStopped {
					return 128 + int(p.stopSig), true, nil
				}
			}
		}
		ch := t.changed
		t.mu.Unlock()
		select {
		case <-ch:
			t.mu.Lock()
		case <-ctx.Done():
			t.mu.Lock()
			return 130, false, nil
		}
	}
}

func (s *shell) builtinJobs(hc interp.HandlerContext, args []string) error {
	long, pids := false, false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-" {
		switch args[0] {
		case "-l":
			long = true
		case "-p":
			pids = true
		case "--":
		default:
			return usageError(hc, "jobs", "jobs [-l|-p] [job_id...]")
		}
		args = args[1:]
	}
	t := s.jobs
	t.mu.Lock()
	defer t.mu.Unlock()
	list := slices.Clone(t.jobs)
	status := 0
	if len(args) > 0 {
		list = nil
		for _, a := range args {
			j, err := t.lookup(a)
			if err != nil {
				fmt.Fprintf(hc.Stderr, "sh: jobs: %v\n", err)
				status = 1
				continue
			}
			list = append(list, j)
		}
	}
	for _, j := range list {
		if pids {
			if j.pgid != 0 {
				fmt.Fprintln(hc.Stdout, j.pgid)
			} else if len(j.procs) > 0 {
				fmt.Fprintln(hc.Stdout, j.procs[0].pid)
			}
			continue
		}
		fmt.Fprintln(hc.Stdout, t.format(j, long))
		// POSIX jobs(1): a job reported as finished is forgotten.
		if j.complete() {
			j.collected = true
			t.remove(j)
		} else if j.stopped() {
			j.reportedStop = true
		}
	}
	return exitStatus(status)
}

func (s *shell) builtinFg(ctx context.Context, hc interp.HandlerContext, args []string) error {
	if s.tty == nil {
		fmt.Fprintln(hc.Stderr, "sh: fg: no job control")
		return exitStatus(1)
	}
	if len(args) > 1 {
		return usageError(hc, "fg", "fg [job_id]")
	}
	spec := ""
	if len(args) == 1 {
		spec = args[0]
	}
	t := s.jobs
	t.mu.Lock()
	j, err := t.lookup(spec)
	if err == nil && j.complete() {
		err = fmt.Errorf("%s: job has terminated", spec)
	}
	t.mu.Unlock()
	if err != nil {
		fmt.Fprintf(hc.Stderr, "sh: fg: %v\n", err)
		return exitStatus(1)
	}
	if err := t.continueJob(j, true); err != nil {
		fmt.Fprintf(hc.Stderr, "sh: fg: %v\n", err)
	}
	fmt.Fprintln(hc.Stdout, j.describe())
	code, _, err := t.awaitJob(ctx, j)
	t.mu.Lock()
	j.fg = false
	t.mu.Unlock()
	s.tty.reclaim()
	if err != nil {
		return err
	}
	return exitStatus(code)
}

func (s *shell) builtinBg(hc interp.HandlerContext, args []string) error {
	if s.tty == nil {
		fmt.Fprintln(hc.Stderr, "sh: bg: no job control")
		return exitStatus(1)
	}
	if len(args) == 0 {
		args = []string{"%+"}
	}
	t := s.jobs
	status := 0
	for _, spec := range args {
		t.mu.Lock()
		j, err := t.lookup(spec)
		running := err == nil && !j.stopped()
		t.mu.Unlock()
		switch {
		case err != nil:
			fmt.Fprintf(hc.Stderr, "sh: bg: %v\n", err)
			status = 1
			continue
		case running:
			fmt.Fprintf(hc.Stderr, "sh: bg: job %d already in background\n", j.id)
			continue
		}
		if err := t.continueJob(j, false); err != nil {
			fmt.Fprintf(hc.Stderr, "sh: bg: %v\n", err)
			status = 1
			continue
		}
		t.mu.Lock()
		fmt.Fprintf(hc.Stdout, "[%d]%c %s &\n", j.id, t.mark(j), j.describe())
		t.mu.Unlock()
	}
	return exitStatus(status)
}

// builtinKill implements kill(1p): kill [-s sig | -sig | -n num] target...,
// kill -l [status...]. A target is a process ID, a negative process group
// ID, or a job ID.
func (s *shell) builtinKill(hc interp.HandlerContext, args []string) error {
	const usage = "kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]"
	if len(args) == 0 {
		return usageError(hc, "kill", usage)
	}
	sig := syscall.SIGTERM
	switch a := args[0]; {
	case a == "-l" || a == "-L":
		return killList(hc, args[1:])
	case a == "-s" || a == "-n":
		if len(args) < 2 {
			return usageError(hc, "kill", usage)
		}
		v, err := parseSignal(args[1])
		if err != nil {
			fmt.Fprintf(hc.Stderr, "sh: kill: %v\n", err)
			return exitStatus(2)
		}
		sig, args = v, args[2:]
	case a == "--":
		args = args[1:]
	case len(a) > 1 && a[0] == '-' && (a[1] < '0' || a[1] > '9'):
		v, err := parseSignal(a[1:])
		if err != nil {
			fmt.Fprintf(hc.Stderr, "sh: kill: %v\n", err)
			return exitStatus(2)
		}
		sig, args = v, args[1:]
	case len(a) > 1 && a[0] == '-' && len(args) == 1:
		return usageError(hc, "kill", usage) // "kill -9": no target
	case len(a) > 1 && a[0] == '-':
		// "-9 pid": a number is a signal when a target follows.
		v, err := parseSignal(a[1:])
		if err != nil {
			fmt.Fprintf(hc.Stderr, "sh: kill: %v\n", err)
			return exitStatus(2)
		}
		sig, args = v, args[1:]
	}
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return usageError(hc, "kill", usage)
	}
	status := 0
	t := s.jobs
	for _, target := range args {
		var err error
		if strings.HasPrefix(target, "%") {
			t.mu.Lock()
			var j *job
			if j, err = t.lookup(target); err == nil {
				err = t.signalJob(j, sig)
			}
			t.mu.Unlock()
		} else if pid, perr := strconv.Atoi(target); perr == nil {
			err = syscall.Kill(pid, sig)
		} else {
			err = fmt.Errorf("%s: arguments must be process or job IDs", target)
		}
		if err != nil {
			fmt.Fprintf(hc.Stderr, "sh: kill: %s: %v\n", target, err)
			status = 1
		}
	}
	return exitStatus(status)
}

func killList(hc interp.HandlerContext, args []string) error {
	if len(args) == 0 {
		var names []string
		for i := 1; i <= maxSignal; i++ {
			names = append(names, signalName(syscall.Signal(i)))
		}
		fmt.Fprintln(hc.Stdout, strings.Join(names, " "))
		return nil
	}
	status := 0
	for _, a := range args {
		if n, err := strconv.Atoi(a); err == nil {
			if n > 128 {
				n -= 128 // an exit status of a process killed by a signal
			}
			if n <= 0 || n > 64 {
				fmt.Fprintf(hc.Stderr, "sh: kill: %s: invalid signal number\n", a)
				status = 1
				continue
			}
			fmt.Fprintln(hc.Stdout, signalName(syscall.Signal(n)))
			continue
		}
		sig, err := parseSignal(a)
		if err != nil {
			fmt.Fprintf(hc.Stderr, "sh: kill: %v\n", err)
			status = 1
			continue
		}
		fmt.Fprintln(hc.Stdout, int(sig))
	}
	return exitStatus(status)
}

// builtinWait implements wait(1p) for the shell's jobs, and hands interp's
// own background subshells ("g1" IDs, from & inside a compound command) to
// interp's wait. SIGINT interrupts it with status 130.
func (s *shell) builtinWait(ctx context.Context, hc interp.HandlerContext, args []string) error {
	t := s.jobs
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		for {
			t.mu.Lock()
			var next *job
			for _, j := range t.jobs {
				if !j.stopped() {
					next = j
					break
				}
			}
			t.mu.Unlock()
			if next == nil {
				break
			}
			if _, stopped, _ := t.awaitJob(ctx, next); ctx.Err() != nil {
				return exitStatus(130)
			} else if stopped {
				t.mu.Lock()
				next.reportedStop = false
				t.mu.Unlock()
			}
		}
		return hc.Builtin(ctx, []string{"wait"})
	}
	code := 0
	for _, a := range args {
		if strings.HasPrefix(a, "g") {
			if err := hc.Builtin(ctx, []string{"wait", a}); err != nil {
				return err
			}
			continue
		}
		t.mu.Lock()
		var j *job
		var err error
		if strings.HasPrefix(a, "%") {
			j, err = t.lookup(a)
		} else if pid, perr := strconv.Atoi(a); perr == nil {
			if j = t.jobByPid(pid); j == nil {
				err = fmt.Errorf("pid %d is not a child of this shell", pid)
			}
		} else {
			err = fmt.Errorf("%s: not a pid or valid job spec", a)
		}
		t.mu.Unlock()
		if err != nil {
			fmt.Fprintf(hc.Stderr, "sh: wait: %v\n", err)
			code = 127
			continue
		}
		c, _, _ := t.awaitJob(ctx, j)
		if ctx.Err() != nil {
			return exitStatus(130)
		}
		code = c
	}
	return exitStatus(code)
}

func usageError(hc interp.HandlerContext, name, usage string) error {
	fmt.Fprintf(hc.Stderr, "sh: %s: usage: %s\n", name, usage)
	return exitStatus(2)
}

// exitStatus is a builtin's result as the exec handler returns it.
func exitStatus(code int) error {
	if code == 0 {
		return nil
	}
	return interp.ExitStatus(uint8(code))
}
