package monitor

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Prompt ends in "# " like a root shell's.
const Prompt = "valence# "

// Env is what the monitor can reach.
type Env struct {
	In       func(p []byte) int // blocking console read
	Out      io.Writer
	Commands map[string]Command
}

// Command is one monitor command.
type Command struct {
	Help string
	Run  func(out io.Writer, args []string) error
}

// Run reads and executes commands until a command's Run never returns
// (poweroff).
func Run(env Env) {
	r := lineReader{in: env.In, out: env.Out}
	for {
		fmt.Fprint(env.Out, Prompt)
		line, ok := r.readLine()
		if !ok {
			continue
		}
		args := strings.Fields(line)
		if len(args) == 0 {
			continue
		}
		if args[0] == "help" {
			help(env)
			continue
		}
		c, found := env.Commands[args[0]]
		if !found {
			fmt.Fprintf(env.Out, "%s: command not found (try help)\n", args[0])
			continue
		}
		if err := c.Run(env.Out, args[1:]); err != nil {
			fmt.Fprintf(env.Out, "%s: %v\n", args[0], err)
		}
	}
}

func help(env Env) {
	names := make([]string, 0, len(env.Commands))
	for n := range env.Commands {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(env.Out, "  %-10s %s\n", "help", "list commands")
	for _, n := range names {
		fmt.Fprintf(env.Out, "  %-10s %s\n", n, env.Commands[n].Help)
	}
}

// lineReader assembles lines from raw console input, echoing as a terminal
// in canonical mode would.
type lineReader struct {
	in     func(p []byte) int
	out    io.Writer
	buf    []byte
	line   bytes.Buffer
	lastCR bool
}

// readLine returns the next line; ok is false if it was cancelled (^C).
func (r *lineReader) readLine() (string, bool) {
	r.line.Reset()
	for {
		if len(r.buf) == 0 {
			p := make([]byte, 256)
			n := r.in(p)
			r.buf = p[:n]
			continue
		}
		c := r.buf[0]
		r.buf = r.buf[1:]
		switch {
		case c == '\r' || c == '\n':
			if c == '\n' && r.line.Len() == 0 && r.justCR() {
				continue // the LF of a CR LF pair
			}
			r.lastCR = c == '\r'
			io.WriteString(r.out, "\n")
			return r.line.String(), true
		case c == 0x7F || c == 0x08:
			if r.line.Len() > 0 {
				r.line.Truncate(r.line.Len() - 1)
				io.WriteString(r.out, "\b \b")
			}
		case c == 0x15: // ^U
			for ; r.line.Len() > 0; r.line.Truncate(r.line.Len() - 1) {
				io.WriteString(r.out, "\b \b")
			}
		case c == 0x03: // ^C
			io.WriteString(r.out, "^C\n")
			return "", false
		case c >= 0x20 && c < 0x7F:
			if r.line.Len() < 1024 {
				r.line.WriteByte(c)
				r.out.Write([]byte{c})
			}
		}
		r.lastCR = false
	}
}

func (r *lineReader) justCR() bool { return r.lastCR }

// Uptime formats a duration like uptime(1).
func Uptime(d time.Duration) string {
	d = d.Round(time.Second)
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h := d / time.Hour
	d -= h * time.Hour
	m := d / time.Minute
	s := (d - m*time.Minute) / time.Second
	if days > 0 {
		return fmt.Sprintf("up %d days, %02d:%02d:%02d", days, h, m, s)
	}
	return fmt.Sprintf("up %02d:%02d:%02d", h, m, s)
}
