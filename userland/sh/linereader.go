package main

import (
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
)

// maxLine bounds one input line (and one command across continuation
// lines) that the shell reads interactively: 4 MiB. A longer line is
// reported and discarded; the shell keeps running.
const maxLine = 4 << 20

var (
	errInterrupted = errors.New("interrupted")
	errLineTooLong = errors.New("input line too long")
)

// lineReader is the interactive shell's input: it shows a prompt and reads
// one line, without its newline. It returns errInterrupted when the user
// abandons the line (^C) and io.EOF at the end of input (^D).
type lineReader interface {
	ReadLine(prompt string) (string, error)
}

// rawEditor edits lines on a terminal in raw mode; when raw mode cannot be
// set (the ioctl fails, as on a console without termios writes) it reads
// through canon instead, so the shell degrades to the terminal's own
// canonical line editing.
type rawEditor struct {
	in      *os.File
	out     *os.File
	history func() []string
	canon   *canonReader
	dec     keyDecoder
}

func (e *rawEditor) ReadLine(prompt string) (string, error) {
	fd := int(e.in.Fd())
	old, err := enterRaw(fd)
	if err != nil {
		return e.canon.ReadLine(prompt)
	}
	defer leaveRaw(fd, old)
	// A multi-line prompt: print all but its last line once, edit on the last.
	if i := strings.LastIndexByte(prompt, '\n'); i >= 0 {
		e.out.WriteString(prompt[:i+1])
		prompt = prompt[i+1:]
	}
	pw := displayWidth(prompt)
	b := newLineBuffer(e.history())
	e.dec = keyDecoder{}
	redraw := func() {
		e.out.Write(render(prompt, pw, b.line, b.pos, termWidth(int(e.out.Fd()))))
	}
	redraw()
	var one [1]byte
	for {
		n, err := e.in.Read(one[:])
		if n == 0 {
			e.out.WriteString("\r\n")
			if err == nil || err == io.EOF {
				return "", io.EOF
			}
			return "", err
		}
		k, ok := e.dec.feed(one[0])
		if !ok {
			continue
		}
		switch b.apply(k) {
		case editAccept:
			b.pos = len(b.line)
			redraw()
			e.out.WriteString("\r\n")
			return string(b.line), nil
		case editEOF:
			e.out.WriteString("\r\n")
			return "", io.EOF
		case editInterrupt:
			e.out.WriteString("^C\r\n")
			return "", errInterrupted
		case editBell:
			e.out.WriteString("\a")
			continue
		case editClear:
			e.out.WriteString("\x1b[H\x1b[2J")
		}
		redraw()
	}
}

// canonReader reads lines without editing of its own: from a terminal in
// canonical mode (the terminal edits), a pipe or a file. Reads happen in a
// goroutine so that SIGINT can abandon the line being typed; a read that
// was pending when the line was abandoned serves the next prompt. It reads
// a pipe or file one byte at a time so that it never takes input past the
// line's newline from the commands it runs (POSIX XCU 2 "Shell Introduction"
// asks the same of a shell reading commands from standard input).
type canonReader struct {
	in     *os.File
	out    io.Writer
	sigint <-chan struct{} // nil when there is no interrupt to wait for
	chunk  int             // bytes per read: a tty returns at most a line

	pending bool
	results chan readResult
	buf     []byte // bytes read and not yet returned
	eof     bool
	discard bool // skipping the rest of an over-long line
}

type readResult struct {
	data []byte
	err  error
}

func newCanonReader(in *os.File, out io.Writer, sigint <-chan struct{}) *canonReader {
	chunk := 1
	if isTerminal(int(in.Fd())) {
		chunk = 4096
	}
	return &canonReader{in: in, out: out, sigint: sigint, chunk: chunk, results: make(chan readResult, 1)}
}

func (c *canonReader) ReadLine(prompt string) (string, error) {
	io.WriteString(c.out, prompt)
	for {
		if i := strings.IndexByte(string(c.buf), '\n'); i >= 0 {
			line := string(c.buf[:i])
			c.buf = c.buf[i+1:]
			return line, nil
		}
		if len(c.buf) > maxLine {
			c.buf, c.discard = c.buf[:0], true
			return "", errLineTooLong
		}
		if c.eof {
			if len(c.buf) > 0 && !c.discard {
				line := string(c.buf)
				c.buf = c.buf[:0]
				return line, nil
			}
			return "", io.EOF
		}
		if !c.pending {
			c.pending = true
			go func(n int) {
				p := make([]byte, n)
				for {
					k, err := c.in.Read(p)
					if err == syscall.EINTR {
						continue
					}
					c.results <- readResult{p[:k], err}
					return
				}
			}(c.chunk)
		}
		select {
		case r := <-c.results:
			c.pending = false
			if r.err != nil || len(r.data) == 0 {
				c.eof = true
			}
			if c.discard {
				if i := strings.IndexByte(string(r.data), '\n'); i >= 0 {
					c.discard = false
					r.data = r.data[i+1:]
				} else {
					r.data = nil
				}
			}
			c.buf = append(c.buf, r.data...)
		case <-c.sigint:
			io.WriteString(c.out, "\n")
			c.buf = c.buf[:0]
			return "", errInterrupted
		}
	}
}

// byteReader reads one byte per call, for the parser reading a script from
// a pipe: the commands of the script then find their input where the script
// left it. A regular file is read in blocks instead.
type byteReader struct{ f *os.File }

func (b byteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, err := b.f.Read(p[:1])
		if err == syscall.EINTR {
			continue
		}
		return n, err
	}
}

// limitedSource fails a read once more than limit bytes were read since the
// last reset, so that input without a statement end (binary garbage, an
// endless word) cannot grow the parser's buffers without bound.
type limitedSource struct {
	r     io.Reader
	n     int
	limit int
}

var errStatementTooLong = errors.New("statement too long")

func (l *limitedSource) Read(p []byte) (int, error) {
	if l.n >= l.limit {
		return 0, errStatementTooLong
	}
	if len(p) > l.limit-l.n {
		p = p[:l.limit-l.n]
	}
	n, err := l.r.Read(p)
	l.n += n
	return n, err
}

func (l *limitedSource) reset() { l.n = 0 }
