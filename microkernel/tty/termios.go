package tty

import (
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

// DefaultTermios is what a terminal starts with, Linux's tty_std_termios
// (termios(3)): canonical mode with echo and signals, ICRNL and IXON on
// input, OPOST|ONLCR on output, 38400 baud 8N1, and the usual control
// characters (^C ^\ DEL ^U ^D, VMIN 1, ^Q ^S ^Z ^R ^W ^V). VDISCARD
// (^O) is disabled: output flushing is not implemented.
func DefaultTermios() linux.KernelTermios {
	t := linux.KernelTermios{
		InputFlags:   linux.ICRNL | linux.IXON,
		OutputFlags:  linux.OPOST | linux.ONLCR,
		ControlFlags: linux.B38400 | linux.CS8 | linux.CREAD | linux.HUPCL,
		LocalFlags: linux.ISIG | linux.ICANON | linux.ECHO | linux.ECHOE | linux.ECHOK |
			linux.ECHOCTL | linux.ECHOKE | linux.IEXTEN,
		ControlCharacters: linux.DefaultControlCharacters,
		InputSpeed:        38400,
		OutputSpeed:       38400,
	}
	t.ControlCharacters[linux.VDISCARD] = 0
	return t
}

// Termios returns the current settings (TCGETS).
func (c *Console) Termios() linux.KernelTermios {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.termios
}

// SetTermios changes the settings (TCSETS; TCSETSW and TCSETSF wait for
// output to drain first, which it always has: writes are synchronous).
// flush discards pending input first (TCSETSF). As Linux's
// n_tty_set_termios: leaving canonical mode makes the line being edited
// readable, entering it makes what was typed raw a line, and turning
// IXON off restarts stopped output. The line discipline field is kept
// (N_TTY; TIOCSETD is not supported), and the speeds follow the
// baud-rate bits.
func (c *Console) SetTermios(t linux.KernelTermios, flush bool) {
	c.mu.Lock()
	if flush {
		c.flushInput()
	}
	old := c.termios
	t.LineDiscipline = old.LineDiscipline
	t.InputSpeed, t.OutputSpeed = speed(t.ControlFlags), speed(t.ControlFlags)
	c.termios = t
	wasCanon, canon := old.LEnabled(linux.ICANON), t.LEnabled(linux.ICANON)
	switch {
	case wasCanon && !canon:
		c.ready = append(c.ready, c.line...)
		c.line, c.widths, c.bounds = c.line[:0], c.widths[:0], nil
	case !wasCanon && canon:
		if len(c.ready) > 0 {
			c.bounds = []int{len(c.ready)} // pushed as a line
		}
	}
	if !t.IEnabled(linux.IXON) && old.IEnabled(linux.IXON) {
		c.startOutput(&effects{})
	}
	c.mu.Unlock()
	c.ev.Signal()
}

// speeds are the baud rates of the CBAUD codes (termios(3)).
var speeds = map[uint32]uint32{
	linux.B0: 0, linux.B50: 50, linux.B75: 75, linux.B110: 110, linux.B134: 134, linux.B150: 150,
	linux.B200: 200, linux.B300: 300, linux.B600: 600, linux.B1200: 1200, linux.B1800: 1800,
	linux.B2400: 2400, linux.B4800: 4800, linux.B9600: 9600, linux.B19200: 19200,
	linux.B38400: 38400, linux.B57600: 57600, linux.B115200: 115200, linux.B230400: 230400,
	linux.B460800: 460800, linux.B500000: 500000, linux.B576000: 576000, linux.B921600: 921600,
	linux.B1000000: 1000000, linux.B1152000: 1152000, linux.B1500000: 1500000,
	linux.B2000000: 2000000, linux.B2500000: 2500000, linux.B3000000: 3000000,
	linux.B3500000: 3500000, linux.B4000000: 4000000,
}

func speed(cflag uint32) uint32 { return speeds[cflag&linux.CBAUD] }

// Winsize returns the window size (TIOCGWINSZ).
func (c *Console) Winsize() linux.Winsize {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.winsize
}

// SetWinsize records the window size (TIOCSWINSZ); a change sends
// SIGWINCH to the foreground process group, as Linux's tty_do_resize.
func (c *Console) SetWinsize(ws linux.Winsize) {
	c.mu.Lock()
	changed := c.winsize != ws
	c.winsize = ws
	c.mu.Unlock()
	if changed {
		c.signalForeground(linux.SIGWINCH)
	}
}

// Flush discards input not read (TCIFLUSH), output not sent (TCOFLUSH:
// none, writes are synchronous) or both (TCIOFLUSH); anything else is
// EINVAL (TCFLSH).
func (c *Console) Flush(queue uint64) errno.Errno {
	switch queue {
	case linux.TCIFLUSH, linux.TCIOFLUSH:
		c.mu.Lock()
		c.flushInput()
		c.mu.Unlock()
		c.ev.Signal()
	case linux.TCOFLUSH:
	default:
		return errno.EINVAL
	}
	return 0
}

// tcflow(3) actions, asm-generic/termbits.h (gvisor's abi/linux has
// none).
const (
	TCOOFF = 0
	TCOON  = 1
	TCIOFF = 2
	TCION  = 3
)

// Flow suspends (TCOOFF) or restarts (TCOON) output, or sends the STOP
// (TCIOFF) or START (TCION) character to the other end (TCXONC).
func (c *Console) Flow(action uint64) errno.Errno {
	c.mu.Lock()
	var send []byte
	switch action {
	case TCOOFF:
		c.stopped, c.tcoStopped = true, true
	case TCOON:
		if c.tcoStopped {
			c.stopped, c.tcoStopped = false, false
		}
	case TCIOFF, TCION:
		i := linux.VSTOP
		if action == TCION {
			i = linux.VSTART
		}
		if ch := c.termios.ControlCharacters[i]; ch != 0 {
			send = []byte{ch}
		}
	default:
		c.mu.Unlock()
		return errno.EINVAL
	}
	c.mu.Unlock()
	if send != nil {
		c.outMu.Lock()
		c.dev.Write(send)
		c.outMu.Unlock()
	}
	c.ev.Signal()
	return 0
}

// Readable is how many bytes a read could take now (FIONREAD): those of
// the complete lines in canonical mode, everything typed otherwise.
func (c *Console) Readable() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.termios.LEnabled(linux.ICANON) {
		if n := len(c.bounds); n > 0 {
			return c.bounds[n-1]
		}
		return 0
	}
	return len(c.ready)
}
