package proc

import (
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/clock"
	"valence.dev/microkernel/klog"
)

// When spawn or execve refuses a file (not executable, not an ELF program
// the loader accepts), the kernel says why on the console, since the
// program only gets an errno: one line per attempt, with the pid and name
// of the process that asked,
//
//	proc: pid 7 (attacks): spawn /etc/motd refused (EACCES): /etc/motd: not executable (mode 0644)
//	proc: pid 9 (sh): execve /bin/x refused (ENOEXEC): /bin/x: elf: not a loadable executable: no ELF magic
//
// but at most refusedBurst lines at once and then one per refusedEvery per
// process, so a program retrying in a loop cannot flood the log. A vfork
// child shares its parent's allowance, since os/exec's attempts are each
// made by a new vfork child.

const (
	refusedBurst = 8
	refusedEvery = 10_000_000_000 // ns
)

// logLimit is a token bucket for one kind of log line.
type logLimit struct {
	mu         sync.Mutex
	tokens     int
	last       int64 // when tokens was last topped up (monotonic ns)
	suppressed int   // lines not logged since the last one that was
}

// allow takes a token if there is one. It returns whether to log, and how
// many lines were suppressed before this one; warn is set on the first
// suppressed line of a run, to say that lines are being dropped.
func (l *logLimit) allow(now int64) (ok bool, dropped int, warn bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == 0 {
		l.tokens, l.last = refusedBurst, now
	}
	if n := (now - l.last) / refusedEvery; n > 0 {
		l.tokens = min(refusedBurst, l.tokens+int(n))
		l.last += n * refusedEvery
	}
	if l.tokens == 0 {
		l.suppressed++
		return false, 0, l.suppressed == 1
	}
	l.tokens--
	dropped, l.suppressed = l.suppressed, 0
	return true, dropped, false
}

// refusals returns p's allowance for refused-file lines, and p's name.
func (p *Process) refusals() (*logLimit, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.refusedLog == nil {
		p.refusedLog = &logLimit{}
	}
	return p.refusedLog, p.Name
}

// logRefused logs why process p's op (spawn, proc-spawn, execve) of file
// failed, if the file was refused rather than not found.
func logRefused(p *Process, op, file string, e errno.Errno, why error) {
	if e != errno.EACCES && e != errno.ENOEXEC || why == nil {
		return
	}
	limit, name := p.refusals()
	ok, dropped, warn := limit.allow(clock.Monotonic())
	switch {
	case ok && dropped > 0:
		klog.Printf("proc: pid %d (%s): %s %s refused (%s): %v [%d more not logged]", p.PID, name, op, file, unix.ErrnoName(syscall.Errno(e)), why, dropped)
	case ok:
		klog.Printf("proc: pid %d (%s): %s %s refused (%s): %v", p.PID, name, op, file, unix.ErrnoName(syscall.Errno(e)), why)
	case warn:
		klog.Printf("proc: pid %d (%s): more refused executables; logging at most one per %d s", p.PID, name, refusedEvery/1_000_000_000)
	}
}
