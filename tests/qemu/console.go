package qemu

import (
	"io"
	"strings"
	"sync"
	"time"
)

// The guest's console is a 16550 UART with a 16-byte receive FIFO. Input is
// written in chunks that fit the FIFO, with a pause between chunks that
// gives a kernel under software emulation time to drain it.
const (
	sendChunk = 16
	sendPause = 5 * time.Millisecond
)

// console collects QEMU's standard output. It is an io.Writer for
// exec.Cmd.Stdout and normalises line endings as text arrives: a run of
// carriage returns followed by a newline becomes a single newline. Carriage
// returns at the end of a write are held back until the next write shows
// whether a newline follows, though readers see them meanwhile.
type console struct {
	mu      sync.Mutex
	buf     []byte
	heldCR  int           // carriage returns held back at the end of the last write
	changed chan struct{} // closed and replaced whenever buf grows
}

func newConsole() *console {
	return &console{changed: make(chan struct{})}
}

// Write appends p to the console output. It never fails.
func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(p)
	for _, b := range p {
		switch {
		case b == '\r':
			c.heldCR++
			continue
		case b == '\n':
			c.heldCR = 0
		}
		for ; c.heldCR > 0; c.heldCR-- {
			c.buf = append(c.buf, '\r')
		}
		c.buf = append(c.buf, b)
	}
	c.notify()
	return n, nil
}

// flush appends any held carriage returns; it is called once the writer has
// finished, when no newline can follow any more.
func (c *console) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ; c.heldCR > 0; c.heldCR-- {
		c.buf = append(c.buf, '\r')
	}
	c.notify()
}

// notify wakes everyone waiting on the current changed channel. c.mu must
// be held.
func (c *console) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// since returns the output from offset off on, and a channel that is
// closed when more output arrives. Carriage returns still held back are
// included, so that a console that echoes Enter as a bare "\r" can be
// matched; if a newline follows them later, they collapse into it, and an
// offset just past them becomes an offset just past the newline.
func (c *console) since(off int) (string, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if off < len(c.buf) {
		return string(c.buf[off:]) + strings.Repeat("\r", c.heldCR), c.changed
	}
	return strings.Repeat("\r", max(0, len(c.buf)+c.heldCR-off)), c.changed
}

// String returns all output so far.
func (c *console) String() string {
	s, _ := c.since(0)
	return s
}

// lockedBuffer is a strings.Builder safe for concurrent use, for QEMU's
// standard error.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// sendSlowly writes s to w in chunks of at most chunk bytes, pausing for
// pause between chunks.
func sendSlowly(w io.Writer, s string, chunk int, pause time.Duration) error {
	for first := true; s != ""; first = false {
		if !first {
			time.Sleep(pause)
		}
		n := min(chunk, len(s))
		if _, err := io.WriteString(w, s[:n]); err != nil {
			return err
		}
		s = s[n:]
	}
	return nil
}

// tail returns about the last n bytes of s, starting at a line boundary
// when one is near, and says whether it cut anything.
func tail(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	t := s[len(s)-n:]
	if i := strings.IndexByte(t, '\n'); i >= 0 && i < n/4 {
		t = t[i+1:]
	}
	return t, true
}
