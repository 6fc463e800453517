package main

import (
	"bufio"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A child started with ProcSpawn shares init's descriptors 0-2, and a
// server that refuses to start (fsd on a disk without a filesystem) says
// why on its stderr and exits. So that init can quote that reason, and
// keep every service's recent lines for svc log, it points the child's
// descriptors 1 and 2 at a pipe for the moment of the spawn; a relay
// copies every line to the console as it comes, hands it to the
// service's log and remembers the one that explains a failure. The
// child's own children (pcid's drivers) inherit the pipe, so their lines
// pass through the relay too.

// console is the console as init's stderr was at start: init's own lines
// and the relays write there, never to descriptors 1 or 2, which a spawn
// may have borrowed for a moment.
var console io.Writer = os.Stderr

// keepConsole duplicates descriptor 2 for the relays (once, at start).
func keepConsole() {
	if fd, err := syscall.Dup(2); err == nil {
		syscall.CloseOnExec(fd)
		console = os.NewFile(uintptr(fd), "console")
	}
}

// reasonTracker picks, from a program's stderr lines, the one that says
// why it failed: its last "<prog>: " line (Go programs here end with
// one), else the first "panic: " or "fatal error: " line of a crash.
type reasonTracker struct {
	prefix string // "fsd: "
	last   string // the last line with prefix, prefix removed
	crash  string // the first runtime crash line
}

func (t *reasonTracker) add(line string) {
	line = strings.TrimRight(line, "\r\n")
	switch {
	case strings.HasPrefix(line, t.prefix):
		if r := strings.TrimSpace(line[len(t.prefix):]); r != "" {
			t.last = r
		}
	case t.crash == "" && (strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ")):
		t.crash = line
	}
}

func (t *reasonTracker) reason() string {
	if t.last != "" {
		return t.last
	}
	return t.crash
}

// stderrTap is one child's output relay.
type stderrTap struct {
	mu     sync.Mutex
	why    reasonTracker
	output func(line string) // the service's log, or nil
	done   chan struct{}     // closed at the end of file of the child's output
}

// spawnTapped runs spawn (which starts one child) with descriptors 1 and
// 2 on a new pipe and relays the pipe; output, if not nil, gets each
// line too. The caller holds the spawn lock: descriptors are the
// process's, shared by every goroutine. If the pipe cannot be made,
// spawn runs untapped and the tap is nil: the child's messages still
// reach the console, only init cannot quote or keep them.
func spawnTapped(prog string, output func(string), spawn func() error) (*stderrTap, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, spawn()
	}
	var saved [2]int
	for i, fd := range []int{1, 2} {
		if saved[i], err = syscall.Dup(fd); err != nil {
			for _, s := range saved[:i] {
				syscall.Close(s)
			}
			r.Close()
			w.Close()
			return nil, spawn()
		}
	}
	restore := func() {
		for i, fd := range []int{1, 2} {
			syscall.Dup3(saved[i], fd, 0)
			syscall.Close(saved[i])
		}
	}
	if syscall.Dup3(int(w.Fd()), 1, 0) != nil || syscall.Dup3(int(w.Fd()), 2, 0) != nil {
		restore()
		r.Close()
		w.Close()
		return nil, spawn()
	}
	err = spawn()
	// Restore before anything else can write to descriptors 1 and 2.
	restore()
	w.Close() // the child holds the only write end now
	if err != nil {
		r.Close()
		return nil, err
	}
	t := &stderrTap{why: reasonTracker{prefix: prog + ": "}, output: output, done: make(chan struct{})}
	go t.relay(r)
	return t, nil
}

// relay copies the child's stderr to the console line by line until the
// child (and anything it passed the descriptor to) is gone.
func (t *stderrTap) relay(r *os.File) {
	defer close(t.done)
	defer r.Close()
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 4096), 64<<10)
	for s.Scan() {
		line := s.Text()
		console.Write([]byte(line + "\n"))
		if t.output != nil {
			t.output(line)
		}
		t.mu.Lock()
		t.why.add(line)
		t.mu.Unlock()
	}
	io.Copy(console, r) // a line too long to scan: pass the rest on as is
}

// reason waits (briefly) for the child's last words and returns the
// line that explains its failure, or "".
func (t *stderrTap) reason(wait time.Duration) string {
	if t == nil {
		return ""
	}
	select {
	case <-t.done:
	case <-time.After(wait):
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.why.reason()
}
