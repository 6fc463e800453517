package tty

import (
	"testing"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile/kfiletest"
)

// FuzzDiscipline types arbitrary bytes (what anyone at the serial port
// may send) under arbitrary settings (what any program may set with
// TCSETS), switching settings halfway, and checks the invariants: the
// input held stays bounded, the line ends stay inside what is ready and
// in order, every erase width belongs to a byte of the line, and reads
// drain it all without blocking.
func FuzzDiscipline(f *testing.F) {
	def := DefaultTermios()
	f.Add([]byte("ls -l\r\x7f\x15\x17abc\x04\x03\x1a\x16\x03\x12\r"), def.InputFlags, def.OutputFlags, def.LocalFlags, def.ControlCharacters[:])
	f.Add([]byte("\x13\x11\x00\xff\t\t\x7f\x7f"), uint32(linux.IXANY|linux.IUTF8|linux.ISTRIP), uint32(linux.OPOST|linux.XTABS|linux.ONOCR), uint32(linux.ECHO|linux.ECHOCTL), []byte{0, 0, '\t', '\t'})
	f.Fuzz(func(t *testing.T, typed []byte, iflag, oflag, lflag uint32, cc []byte) {
		c, dev, _ := newTest()
		c.Attach(1, 1, true)
		tm := c.Termios()
		tm.InputFlags, tm.OutputFlags, tm.LocalFlags = iflag, oflag, lflag
		copy(tm.ControlCharacters[:], cc)
		// A blocking read is never made here; keep MIN and TIME small so a
		// non-blocking one is what it is.
		c.SetTermios(tm, false)
		half := len(typed) / 2
		c.input(typed[:half])
		check(t, c)
		tm.LocalFlags ^= linux.ICANON
		c.SetTermios(tm, false)
		c.input(typed[half:])
		check(t, c)
		b := make([]byte, 512)
		caller := kfiletest.NewCaller(1)
		for i := 0; ; i++ {
			if i > 2*bufSize {
				t.Fatalf("reads do not drain the input")
			}
			n, e := c.Read(caller, b, 0, true)
			now := c.Termios()
			if e == errno.EAGAIN || e == 0 && n == 0 && !now.LEnabled(linux.ICANON) {
				break
			}
			if e != 0 {
				t.Fatalf("Read: %v", e)
			}
		}
		check(t, c)
		if len(dev.output()) > 8*len(typed)+64 {
			t.Fatalf("%d bytes of echo for %d typed", len(dev.output()), len(typed))
		}
	})
}

func check(t *testing.T, c *Console) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.ready)+len(c.line) > bufSize {
		t.Fatalf("holding %d+%d bytes, more than %d", len(c.ready), len(c.line), bufSize)
	}
	if len(c.widths) != len(c.line) {
		t.Fatalf("%d widths for a line of %d", len(c.widths), len(c.line))
	}
	last := -1
	for _, b := range c.bounds {
		if b < last || b > len(c.ready) || b < 0 {
			t.Fatalf("line ends %v for %d ready bytes", c.bounds, len(c.ready))
		}
		last = b
	}
}
