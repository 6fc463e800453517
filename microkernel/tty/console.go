package tty

import (
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
)

// bufSize bounds the input a terminal holds: the line being edited and
// what is ready to be read together, as Linux's N_TTY_BUF_SIZE. Input
// beyond it is dropped (a serial port cannot be told to wait).
const bufSize = 4096

// Console is the serial console as a terminal for user programs: the
// line discipline (termios(3)), the window size, and the job-control
// state of a controlling terminal (its session and foreground process
// group).
type Console struct {
	dev   Device
	jobs  Jobs
	start sync.Once
	// ev is signalled when input arrives, output is restarted or the
	// settings change: readers, pollers and stopped writers wait on it.
	ev *kfile.Event
	// outMu serialises output (echo and writes), so that what reaches
	// the device is in the order the column was computed for.
	outMu sync.Mutex

	mu      sync.Mutex
	termios linux.KernelTermios
	winsize linux.Winsize
	line    []byte  // canonical mode: the line being edited
	widths  []uint8 // the columns each byte of line took when echoed
	ready   []byte  // input a read may take
	// bounds are, in canonical mode, the ends of the complete lines in
	// ready, ascending; a line ended by VEOF with nothing in it (end of
	// file) is an empty one.
	bounds []int
	lnext  bool // the next byte is taken literally (VLNEXT)
	// stopped: output is suspended, by VSTOP (IXON) or by TCOOFF
	// (tcoStopped too, which only TCOON undoes).
	stopped, tcoStopped bool
	col                 int // the output column (tabs, ONOCR, erasing)

	// Job control (jobs.go).
	session    int // the session it is the controlling terminal of; 0: none
	fg         int // the foreground process group; 0: none
	explicit   bool
	lastReader int // the PID that last read it: the fallback foreground
}

// Device is the hardware under the terminal: package console's serial
// port in the kernel, a fake in tests.
type Device interface {
	// Read blocks until there is input and returns how much it put in b.
	Read(b []byte) int
	// Write writes b out unchanged (the discipline has done the output
	// processing) and returns how much it wrote.
	Write(b []byte) int
}

// New returns a terminal on dev with Linux's default settings
// (termios(3): canonical mode, echo, ISIG, ICRNL, OPOST|ONLCR) and a
// 24x80 window. jobs sends the signals the terminal generates. Input is
// read from dev once a program first reads or polls the terminal, so
// that the kernel's own use of the console before then is not
// disturbed.
func New(dev Device, jobs Jobs) *Console {
	return &Console{dev: dev, jobs: jobs, ev: kfile.NewEvent(), termios: DefaultTermios(),
		winsize: linux.Winsize{Row: 24, Col: 80}}
}

func (c *Console) startReader() { c.start.Do(func() { go c.reader() }) }

func (c *Console) reader() {
	buf := make([]byte, 256)
	for {
		n := c.dev.Read(buf)
		c.input(buf[:n])
	}
}

// Read implements kfile.File: a background process of the terminal's
// session gets SIGTTIN first (jobs.go); then canonical mode returns at
// most one line, non-canonical mode follows VMIN and VTIME (termios(3)).
func (c *Console) Read(t kfile.Caller, b []byte, _ int64, nonblock bool) (int, errno.Errno) {
	c.startReader()
	if e := c.check(t, linux.SIGTTIN); e != 0 {
		return 0, e
	}
	if t == nil {
		nonblock = true // the kernel's own read: nothing could interrupt it
	} else {
		c.mu.Lock()
		c.lastReader = t.PID()
		c.mu.Unlock()
	}
	if len(b) == 0 {
		return 0, 0
	}
	n := 0
	var deadline time.Time // a VTIME timer, once one runs
	for {
		wait := c.ev.Wait()
		c.mu.Lock()
		if c.termios.LEnabled(linux.ICANON) {
			if m, ok := c.takeLine(b[n:]); ok || n > 0 {
				c.mu.Unlock()
				return n + m, 0
			}
		} else {
			vmin := int(c.termios.ControlCharacters[linux.VMIN])
			vtime := time.Duration(c.termios.ControlCharacters[linux.VTIME]) * 100 * time.Millisecond
			got := copy(b[n:], c.ready)
			c.consume(got)
			n += got
			switch {
			case vmin == 0 && (n > 0 || vtime == 0):
				c.mu.Unlock()
				return n, 0 // polling read, or a timed one that got data
			case vmin > 0 && n >= min(vmin, len(b)):
				c.mu.Unlock()
				return n, 0
			case vmin == 0 && deadline.IsZero():
				deadline = time.Now().Add(vtime) // the read's own timer
			case vmin > 0 && vtime > 0 && got > 0:
				deadline = time.Now().Add(vtime) // the inter-byte timer restarts
			}
		}
		c.mu.Unlock()
		if nonblock {
			if n > 0 {
				return n, 0
			}
			return 0, errno.EAGAIN
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return n, 0
		}
		if !t.CanBlock() {
			if n > 0 {
				return n, 0
			}
			return 0, errno.EINTR
		}
		switch sleep(wait, t.Interrupted(), deadline) {
		case woken:
		case timedOut:
			return n, 0
		case interrupted:
			if n > 0 {
				return n, 0
			}
			return 0, errno.EINTR
		}
	}
}

type wakeup int

const (
	woken wakeup = iota
	timedOut
	interrupted
)

// sleep waits for wait, an interruption, or the deadline (zero: none).
func sleep(wait <-chan struct{}, intr <-chan struct{}, deadline time.Time) wakeup {
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		tm := time.NewTimer(time.Until(deadline))
		defer tm.Stop()
		timeout = tm.C
	}
	select {
	case <-wait:
		return woken
	case <-timeout:
		return timedOut
	case <-intr:
		return interrupted
	}
}

// takeLine takes, in canonical mode, what a read gets: the rest of the
// first complete line, or as much of it as fits; ok is false if there is
// none yet. End of file is ok with 0 bytes. c.mu is held.
func (c *Console) takeLine(b []byte) (int, bool) {
	if len(c.bounds) == 0 {
		return 0, false
	}
	if c.bounds[0] == 0 {
		c.bounds = c.bounds[1:] // end of file: this read returns 0
		return 0, true
	}
	n := copy(b, c.ready[:c.bounds[0]])
	c.consume(n)
	return n, true
}

// consume drops the first n bytes of ready, and the line end they
// complete. c.mu is held.
func (c *Console) consume(n int) {
	if n == 0 {
		return
	}
	c.ready = c.ready[n:]
	if len(c.ready) == 0 {
		c.ready = nil // let the backing array go
	}
	for i := range c.bounds {
		c.bounds[i] -= n
	}
	for len(c.bounds) > 0 && c.bounds[0] < 0 {
		c.bounds = c.bounds[1:]
	}
	if len(c.bounds) > 0 && c.bounds[0] == 0 {
		c.bounds = c.bounds[1:] // the line was read to its end
	}
}

// writeChunk bounds how much output is processed at once, so that VSTOP
// takes effect within a long write.
const writeChunk = 1024

// Write implements kfile.File: with TOSTOP a background process gets
// SIGTTOU first; output waits while it is stopped (VSTOP, TCOOFF), and
// goes through the output processing (OPOST).
func (c *Console) Write(t kfile.Caller, b []byte, _ int64, nonblock bool) (int, errno.Errno) {
	c.mu.Lock()
	tostop := c.termios.LEnabled(linux.TOSTOP)
	c.mu.Unlock()
	if tostop {
		if e := c.check(t, linux.SIGTTOU); e != 0 {
			return 0, e
		}
	}
	done := 0
	for done < len(b) {
		if e := c.waitStarted(t, nonblock); e != 0 {
			if done > 0 {
				return done, 0
			}
			return 0, e
		}
		n := min(len(b)-done, writeChunk)
		c.outMu.Lock()
		c.mu.Lock()
		out := c.process(nil, b[done:done+n])
		c.mu.Unlock()
		c.dev.Write(out)
		c.outMu.Unlock()
		done += n
	}
	return done, 0
}

// waitStarted waits until output is not stopped.
func (c *Console) waitStarted(t kfile.Caller, nonblock bool) errno.Errno {
	if t == nil {
		nonblock = true
	}
	_, e := kfile.WaitUntil(t, c.ev, nonblock, func() (int, errno.Errno, bool) {
		c.mu.Lock()
		defer c.mu.Unlock()
		return 0, 0, !c.stopped
	})
	return e
}

func (c *Console) Seekable() bool { return false }

func (c *Console) Stat() linux.Stat {
	return linux.Stat{Dev: 1, Mode: linux.S_IFCHR | 0o666, Nlink: 1, Rdev: c.Rdev(), Blksize: 4096}
}

// Poll implements kfile.File: readable as a read would not block
// (a complete line in canonical mode; VMIN bytes, or one with VTIME, in
// non-canonical mode, as Linux's input_available_p), writable unless
// output is stopped.
func (c *Console) Poll() (uint32, *kfile.Event) {
	c.startReader()
	c.mu.Lock()
	defer c.mu.Unlock()
	var ev uint32
	if !c.stopped {
		ev |= linux.EPOLLOUT
	}
	if c.termios.LEnabled(linux.ICANON) {
		if len(c.bounds) > 0 {
			ev |= linux.EPOLLIN
		}
	} else {
		want := 1
		cc := c.termios.ControlCharacters
		if cc[linux.VTIME] == 0 && cc[linux.VMIN] > 0 {
			want = int(cc[linux.VMIN])
		}
		if len(c.ready) >= want {
			ev |= linux.EPOLLIN
		}
	}
	return ev, c.ev
}

func (c *Console) Release() {}

// Rdev is the console's device number, 5:1 as on Linux.
func (c *Console) Rdev() uint64 { return 5<<8 | 1 }
