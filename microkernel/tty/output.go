package tty

import (
	"gvisor.dev/gvisor/pkg/abi/linux"
)

// process appends b to out as the terminal sends it: unchanged without
// OPOST; with it, as Linux's do_output_char: ONLCR sends "\r\n" for
// "\n", OCRNL "\n" for "\r", ONOCR drops a "\r" at column 0, ONLRET
// makes "\n" return the carriage, XTABS expands tabs to spaces, OLCUC
// sends lower case as upper. The column is tracked for tabs, ONOCR and
// erasing. c.mu is held.
func (c *Console) process(out, b []byte) []byte {
	o := c.termios.OutputFlags
	if o&linux.OPOST == 0 {
		return append(out, b...)
	}
	for _, ch := range b {
		switch ch {
		case '\n':
			if o&linux.ONLRET != 0 {
				c.col = 0
			}
			if o&linux.ONLCR != 0 {
				c.col = 0
				out = append(out, '\r', '\n')
				continue
			}
		case '\r':
			if o&linux.ONOCR != 0 && c.col == 0 {
				continue
			}
			if o&linux.OCRNL != 0 {
				ch = '\n'
				if o&linux.ONLRET != 0 {
					c.col = 0
				}
				break
			}
			c.col = 0
		case '\t':
			spaces := 8 - c.col&7
			c.col += spaces
			if o&linux.TABDLY == linux.XTABS {
				out = append(out, "        "[:spaces]...)
				continue
			}
		case '\b':
			if c.col > 0 {
				c.col--
			}
		default:
			if !isCntrl(ch) {
				if o&linux.OLCUC != 0 && ch >= 'a' && ch <= 'z' {
					ch -= 'a' - 'A'
				}
				if !c.isContinuation(ch) {
					c.col++
				}
			}
		}
		out = append(out, ch)
	}
	return out
}
