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

// A child started with ProcSpawn shares bootstrap's descriptors 0-2, and
// a server that refuses to start (fsd on a disk without a filesystem)
// says why on its stderr and exits. To repeat that reason in its own
// line, bootstrap points its descriptor 2 at a pipe for the moment of
// the spawn, so the child's stderr is the pipe; a relay copies every line
// to the console as it comes and remembers the one that explains a
// failure.

// console is the console as bootstrap's stderr was at start: relays
// write there, never to descriptor 2, which a spawn may have borrowed.
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

// stderrTap is one child's stderr relay.
type stderrTap struct {
	mu   sync.Mutex
	why  reasonTracker
	done chan struct{} // closed at the child's stderr's end of file
}

// spawnTapped runs spawn (which starts one child) with descriptor 2 on a
// new pipe and relays the pipe. If the pipe cannot be made, spawn runs
// untapped and the tap is nil: the child's messages still reach the
// console, only bootstrap cannot quote them.
func spawnTapped(prog string, spawn func() error) (*stderrTap, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, spawn()
	}
	saved, err := syscall.Dup(2)
	if err != nil {
		r.Close()
		w.Close()
		return nil, spawn()
	}
	if err := syscall.Dup3(int(w.Fd()), 2, 0); err != nil {
		syscall.Close(saved)
		r.Close()
		w.Close()
		return nil, spawn()
	}
	err = spawn()
	// Restore before anything else can write to descriptor 2.
	syscall.Dup3(saved, 2, 0)
	syscall.Close(saved)
	w.Close() // the child holds the only write end now
	if err != nil {
		r.Close()
		return nil, err
	}
	t := &stderrTap{why: reasonTracker{prefix: prog + ": "}, done: make(chan struct{})}
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
