package tty

import (
	"gvisor.dev/gvisor/pkg/abi/linux"
)

// The input half of the line discipline, as Linux's n_tty does it
// (termios(3); drivers/tty/n_tty.c is the behaviour compared against):
// per byte, ISTRIP and IUCLC, a pending VLNEXT, the flow characters
// (IXON), the signal characters (ISIG), carriage-return mapping (IGNCR,
// ICRNL, INLCR), then canonical editing (ICANON) or the raw queue, with
// echo (ECHO, ECHOE, ECHOK, ECHOKE, ECHONL, ECHOCTL).

// effects are what typing causes besides the queues: echo to write and
// signals to send once the lock is released, and whether to wake readers.
type effects struct {
	echo    []byte
	signals []linux.Signal
	wake    bool
}

// input runs the line discipline over newly typed bytes.
func (c *Console) input(b []byte) {
	var fx effects
	c.outMu.Lock()
	c.mu.Lock()
	for _, ch := range b {
		c.receive(ch, &fx)
	}
	c.mu.Unlock()
	if len(fx.echo) > 0 {
		c.dev.Write(fx.echo)
	}
	c.outMu.Unlock()
	if fx.wake || len(b) > 0 {
		c.ev.Signal()
	}
	for _, sig := range fx.signals {
		c.signalForeground(sig)
	}
}

// is reports whether ch is control character i; a character set to 0
// (_POSIX_VDISABLE) is disabled and matches nothing.
func (c *Console) is(ch byte, i int) bool {
	v := c.termios.ControlCharacters[i]
	return v != 0 && v == ch
}

func (c *Console) lflag(f uint32) bool { return c.termios.LocalFlags&f != 0 }
func (c *Console) iflag(f uint32) bool { return c.termios.InputFlags&f != 0 }

// receive handles one typed byte. c.mu is held.
func (c *Console) receive(ch byte, fx *effects) {
	if c.iflag(linux.ISTRIP) {
		ch &= 0x7F
	}
	if c.iflag(linux.IUCLC) && c.lflag(linux.IEXTEN) && ch >= 'A' && ch <= 'Z' {
		ch += 'a' - 'A'
	}
	if c.lnext {
		c.lnext = false
		c.put(ch, fx)
		return
	}
	if c.iflag(linux.IXON) {
		switch {
		case c.is(ch, linux.VSTART):
			c.startOutput(fx)
			return
		case c.is(ch, linux.VSTOP):
			c.stopped = true
			return
		}
	}
	if c.lflag(linux.ISIG) {
		for _, s := range [...]struct {
			i   int
			sig linux.Signal
		}{{linux.VINTR, linux.SIGINT}, {linux.VQUIT, linux.SIGQUIT}, {linux.VSUSP, linux.SIGTSTP}} {
			if c.is(ch, s.i) {
				c.isig(ch, s.sig, fx)
				return
			}
		}
	}
	if c.iflag(linux.IXON) && c.iflag(linux.IXANY) {
		c.startOutput(fx)
	}
	switch {
	case ch == '\r' && c.iflag(linux.IGNCR):
		return
	case ch == '\r' && c.iflag(linux.ICRNL):
		ch = '\n'
	case ch == '\n' && c.iflag(linux.INLCR):
		ch = '\r'
	}
	if c.lflag(linux.ICANON) && c.canonical(ch, fx) {
		return
	}
	c.put(ch, fx)
}

// isig handles a signal character: the input is discarded (unless
// NOFLSH), output restarted, the character echoed, and the signal sent
// to the foreground process group once the lock is released.
func (c *Console) isig(ch byte, sig linux.Signal, fx *effects) {
	if !c.lflag(linux.NOFLSH) {
		c.flushInput()
	}
	if c.iflag(linux.IXON) {
		c.startOutput(fx)
	}
	if c.lflag(linux.ECHO) {
		fx.echo = c.echoChar(fx.echo, ch)
	}
	fx.signals = append(fx.signals, sig)
}

// startOutput restarts output stopped by VSTOP, not one stopped by
// TCOOFF (Linux's start_tty). c.mu is held.
func (c *Console) startOutput(fx *effects) {
	if c.stopped && !c.tcoStopped {
		c.stopped = false
		fx.wake = true
	}
}

// flushInput discards everything typed and not read. c.mu is held.
func (c *Console) flushInput() {
	c.line, c.widths, c.ready, c.bounds = nil, nil, nil, nil
	c.lnext = false
}

// canonical handles the editing characters and line ends of canonical
// mode and reports whether ch was one; other bytes are put in the line.
func (c *Console) canonical(ch byte, fx *effects) bool {
	iexten := c.lflag(linux.IEXTEN)
	switch {
	case c.is(ch, linux.VERASE), c.is(ch, linux.VKILL), iexten && c.is(ch, linux.VWERASE):
		c.erase(ch, fx)
	case iexten && c.is(ch, linux.VLNEXT):
		c.lnext = true
		if c.lflag(linux.ECHO) && c.lflag(linux.ECHOCTL) {
			fx.echo = c.process(fx.echo, []byte("^\b"))
		}
	case iexten && c.lflag(linux.ECHO) && c.is(ch, linux.VREPRINT):
		fx.echo = c.echoChar(fx.echo, ch)
		fx.echo = c.process(fx.echo, []byte{'\n'})
		for i, b := range c.line {
			col := c.col
			fx.echo = c.echoChar(fx.echo, b)
			c.widths[i] = c.width(b, col)
		}
	case ch == '\n':
		if c.lflag(linux.ECHO) || c.lflag(linux.ECHONL) {
			fx.echo = c.process(fx.echo, []byte{'\n'})
		}
		c.endLine(ch, true, fx)
	case c.is(ch, linux.VEOF):
		c.endLine(ch, false, fx) // the character itself is not input
	case c.is(ch, linux.VEOL), iexten && c.is(ch, linux.VEOL2):
		if c.lflag(linux.ECHO) {
			fx.echo = c.echoChar(fx.echo, ch)
		}
		c.endLine(ch, true, fx)
	default:
		return false
	}
	return true
}

// endLine completes the line being edited, with ch as its last byte if
// keep, and makes it readable.
func (c *Console) endLine(ch byte, keep bool, fx *effects) {
	if keep {
		if len(c.ready)+len(c.line) >= bufSize {
			c.bell(fx)
			return
		}
		c.line = append(c.line, ch)
	}
	c.ready = append(c.ready, c.line...)
	c.bounds = append(c.bounds, len(c.ready))
	c.line, c.widths = c.line[:0], c.widths[:0]
	fx.wake = true
}

// put adds an ordinary byte: to the line in canonical mode, else to the
// readable queue; it is echoed if ECHO is on.
func (c *Console) put(ch byte, fx *effects) {
	canon := c.lflag(linux.ICANON)
	room := bufSize - len(c.ready)
	if canon {
		room -= len(c.line) + 1 // a line end must still fit
	}
	if room <= 0 {
		c.bell(fx)
		return
	}
	col := c.col
	if c.lflag(linux.ECHO) {
		if ch == '\n' {
			fx.echo = c.process(fx.echo, []byte{'\n'})
		} else {
			fx.echo = c.echoChar(fx.echo, ch)
		}
	}
	if canon {
		c.line = append(c.line, ch)
		c.widths = append(c.widths, c.width(ch, col))
		return
	}
	c.ready = append(c.ready, ch)
	fx.wake = true
}

// bell rings for input that does not fit, with IMAXBEL.
func (c *Console) bell(fx *effects) {
	if c.iflag(linux.IMAXBEL) {
		fx.echo = c.process(fx.echo, []byte{'\a'})
	}
}

// echoChar appends the echo of ch: with ECHOCTL a control character
// other than tab and newline shows as ^X (DEL as ^?).
func (c *Console) echoChar(out []byte, ch byte) []byte {
	if c.lflag(linux.ECHOCTL) && isCntrl(ch) && ch != '\t' && ch != '\n' {
		out = c.process(out, []byte{'^', ch ^ 0x40})
		return out
	}
	return c.process(out, []byte{ch})
}

// width is how many columns the echo of ch took, starting at column
// col, for erasing it: two for ^X, none for a control character echoed
// as itself or a UTF-8 continuation byte, the columns a tab advanced
// over, else one (as Linux's eraser counts, whatever OPOST does).
func (c *Console) width(ch byte, col int) uint8 {
	switch {
	case ch == '\t':
		return uint8(max(c.col-col, 0))
	case isCntrl(ch) && c.lflag(linux.ECHOCTL):
		return 2
	case isCntrl(ch), c.isContinuation(ch):
		return 0
	}
	return 1
}

func isCntrl(ch byte) bool { return ch < 0x20 || ch == 0x7F }

// isContinuation reports whether ch continues a UTF-8 sequence, with
// IUTF8: such bytes are erased with the character they belong to.
func (c *Console) isContinuation(ch byte) bool {
	return c.iflag(linux.IUTF8) && ch&0xC0 == 0x80
}

// erase handles VERASE (one character), VWERASE (a word: trailing
// non-alphanumerics, then alphanumerics and '_', as Linux's ALTWERASE)
// and VKILL (the line), rubbing the echo out when ECHO is on.
func (c *Console) erase(ch byte, fx *effects) {
	if len(c.line) == 0 {
		return
	}
	echo := c.lflag(linux.ECHO)
	kill := c.is(ch, linux.VKILL) && !c.is(ch, linux.VERASE)
	werase := !kill && !c.is(ch, linux.VERASE)
	if kill {
		if !echo {
			c.line, c.widths = c.line[:0], c.widths[:0]
			return
		}
		if !c.lflag(linux.ECHOK) || !c.lflag(linux.ECHOKE) || !c.lflag(linux.ECHOE) {
			c.line, c.widths = c.line[:0], c.widths[:0]
			fx.echo = c.echoChar(fx.echo, ch)
			if c.lflag(linux.ECHOK) {
				fx.echo = c.process(fx.echo, []byte{'\n'})
			}
			return
		}
	}
	alnums := 0
	for len(c.line) > 0 {
		i := len(c.line) - 1
		for i > 0 && c.isContinuation(c.line[i]) {
			i--
		}
		b := c.line[i]
		if werase {
			if isAlnum(b) || b == '_' {
				alnums++
			} else if alnums > 0 {
				break
			}
		}
		w := 0
		for _, x := range c.widths[i:] {
			w += int(x)
		}
		c.line, c.widths = c.line[:i], c.widths[:i]
		if echo {
			switch {
			case !kill && !werase && !c.lflag(linux.ECHOE):
				fx.echo = c.echoChar(fx.echo, ch)
			case b == '\t':
				for range w {
					fx.echo = c.process(fx.echo, []byte{'\b'})
				}
			default:
				for range w {
					fx.echo = c.process(fx.echo, []byte("\b \b"))
				}
			}
		}
		if !kill && !werase {
			break
		}
	}
}

func isAlnum(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}
