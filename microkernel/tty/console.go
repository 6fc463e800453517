package tty

import (
	"sync"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
)

// Console is the serial console as a terminal for user programs, with
// a canonical ("cooked") line discipline: input is echoed, edited with
// backspace and ^U, and delivered a line at a time; ^D at the start of a
// line is end of file; ^C discards the line and sends SIGINT to the
// foreground process (the last process that read from the console).
type Console struct {
	dev        Device
	interrupt  func(pid int) // sends SIGINT to process pid
	start      sync.Once
	mu         sync.Mutex
	line       []byte // being edited
	ready      []byte // complete lines, not read yet
	eofs       int    // ^Ds typed at the start of a line, not read yet
	ev         *kfile.Event
	foreground int // PID
}

// Device is the hardware under the terminal: package console's serial
// port in the kernel, a fake in tests.
type Device interface {
	// Read blocks until there is input and returns how much it put in b.
	Read(b []byte) int
	// Write writes b out and returns how much it wrote.
	Write(b []byte) int
}

// New returns a terminal on dev; interrupt sends SIGINT to a process
// (^C). Input is read from dev once a program first reads or polls the
// terminal, so that the kernel's own use of the console before then is
// not disturbed.
func New(dev Device, interrupt func(pid int)) *Console {
	return &Console{dev: dev, interrupt: interrupt, ev: kfile.NewEvent()}
}

func (c *Console) reader() {
	buf := make([]byte, 256)
	for {
		n := c.dev.Read(buf)
		c.input(buf[:n])
	}
}

// input runs the line discipline over newly typed bytes.
func (c *Console) input(b []byte) {
	var echo []byte
	var interrupt int
	c.mu.Lock()
	for _, ch := range b {
		switch {
		case ch == '\r' || ch == '\n':
			c.line = append(c.line, '\n')
			c.ready = append(c.ready, c.line...)
			c.line = c.line[:0]
			echo = append(echo, '\n')
		case ch == 0x7F || ch == 0x08:
			if len(c.line) > 0 {
				c.line = c.line[:len(c.line)-1]
				echo = append(echo, "\b \b"...)
			}
		case ch == 0x15: // ^U
			for range c.line {
				echo = append(echo, "\b \b"...)
			}
			c.line = c.line[:0]
		case ch == 0x04: // ^D
			if len(c.line) == 0 {
				c.eofs++
			} else {
				c.ready = append(c.ready, c.line...)
				c.line = c.line[:0]
			}
		case ch == 0x03: // ^C
			c.line = c.line[:0]
			echo = append(echo, "^C\n"...)
			interrupt = c.foreground
		case ch == '\t' || ch >= 0x20 && ch < 0x7F:
			if len(c.line) < 4095 {
				c.line = append(c.line, ch)
				echo = append(echo, ch)
			}
		}
	}
	c.mu.Unlock()
	if len(echo) > 0 {
		c.dev.Write(echo)
	}
	c.ev.Signal()
	if interrupt != 0 {
		c.interrupt(interrupt)
	}
}

func (c *Console) Read(t kfile.Caller, b []byte, _ int64, nonblock bool) (int, errno.Errno) {
	c.start.Do(func() { go c.reader() })
	c.mu.Lock()
	c.foreground = t.PID()
	c.mu.Unlock()
	return kfile.WaitUntil(t, c.ev, nonblock, func() (int, errno.Errno, bool) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if len(c.ready) > 0 {
			// At most one line per read, as a terminal delivers.
			n := 0
			for n < len(c.ready) && n < len(b) {
				n++
				if c.ready[n-1] == '\n' {
					break
				}
			}
			copy(b, c.ready[:n])
			c.ready = c.ready[n:]
			return n, 0, true
		}
		if c.eofs > 0 {
			c.eofs--
			return 0, 0, true
		}
		return 0, 0, false
	})
}

func (c *Console) Write(_ kfile.Caller, b []byte, _ int64, _ bool) (int, errno.Errno) {
	return c.dev.Write(b), 0
}

func (c *Console) Seekable() bool { return false }

func (c *Console) Stat() linux.Stat {
	return linux.Stat{Dev: 1, Mode: linux.S_IFCHR | 0o666, Nlink: 1, Rdev: c.Rdev(), Blksize: 4096}
}

func (c *Console) Poll() (uint32, *kfile.Event) {
	c.start.Do(func() { go c.reader() })
	c.mu.Lock()
	defer c.mu.Unlock()
	ev := uint32(linux.EPOLLOUT)
	if len(c.ready) > 0 || c.eofs > 0 {
		ev |= linux.EPOLLIN
	}
	return ev, c.ev
}

func (c *Console) Release() {}

// Rdev is the console's device number, 5:1 as on Linux.
func (c *Console) Rdev() uint64 { return 5<<8 | 1 }

// Termios reports the console's terminal settings (TCGETS): canonical
// mode with echo, as the line discipline above implements.
func (c *Console) Termios() linux.KernelTermios {
	var t linux.KernelTermios
	t.InputFlags = linux.ICRNL | linux.IXON
	t.OutputFlags = linux.OPOST | linux.ONLCR
	t.ControlFlags = linux.B38400 | linux.CS8 | linux.CREAD
	t.LocalFlags = linux.ISIG | linux.ICANON | linux.ECHO | linux.ECHOE | linux.ECHOK
	t.ControlCharacters[linux.VINTR] = 0x03
	t.ControlCharacters[linux.VERASE] = 0x7F
	t.ControlCharacters[linux.VKILL] = 0x15
	t.ControlCharacters[linux.VEOF] = 0x04
	t.ControlCharacters[linux.VMIN] = 1
	return t
}
