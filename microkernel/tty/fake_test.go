package tty

import (
	"fmt"
	"sync"
	"testing"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/kfile/kfiletest"
)

var _ kfile.File = (*Console)(nil)

// fakeDevice is a serial port: typed input comes from a channel, output
// is recorded.
type fakeDevice struct {
	in  chan []byte
	mu  sync.Mutex
	out []byte
}

func newFakeDevice() *fakeDevice { return &fakeDevice{in: make(chan []byte, 16)} }

func (d *fakeDevice) Read(b []byte) int { return copy(b, <-d.in) }

func (d *fakeDevice) Write(b []byte) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.out = append(d.out, b...)
	return len(b)
}

func (d *fakeDevice) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return string(d.out)
}

func (d *fakeDevice) reset() {
	d.mu.Lock()
	d.out = nil
	d.mu.Unlock()
}

// fakeJobs records the signals the terminal sends, as "group 5 SIGINT"
// or "pid 7 SIGINT".
type fakeJobs struct {
	mu   sync.Mutex
	sent []string
}

func (j *fakeJobs) SignalGroup(pgid int, sig linux.Signal) {
	j.mu.Lock()
	j.sent = append(j.sent, fmt.Sprintf("group %d %d", pgid, sig))
	j.mu.Unlock()
}

func (j *fakeJobs) SignalProcess(pid int, sig linux.Signal) {
	j.mu.Lock()
	j.sent = append(j.sent, fmt.Sprintf("pid %d %d", pid, sig))
	j.mu.Unlock()
}

func (j *fakeJobs) signals() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]string(nil), j.sent...)
}

// member is a calling thread of a process in a process group and
// session, with or without the terminal as its controlling terminal.
type member struct {
	*kfiletest.Caller
	pgid, sid int
	ctty      *Console
	ignored   map[linux.Signal]bool
	orphaned  bool
}

func (m *member) Job() (int, int, *Console)     { return m.pgid, m.sid, m.ctty }
func (m *member) Ignores(sig linux.Signal) bool { return m.ignored[sig] }
func (m *member) GroupOrphaned() bool           { return m.orphaned }
func newMember(pid, pgid, sid int, c *Console) *member {
	return &member{Caller: kfiletest.NewCaller(pid), pgid: pgid, sid: sid, ctty: c}
}

// newTest returns a terminal whose input comes only from the test.
func newTest() (*Console, *fakeDevice, *fakeJobs) {
	dev, jobs := newFakeDevice(), &fakeJobs{}
	c := New(dev, jobs)
	c.start.Do(func() {}) // input comes from the test, not the device
	return c, dev, jobs
}

// readAll reads what is ready, a read(2) at a time, without blocking.
func readAll(t *testing.T, c *Console, caller kfile.Caller) []string {
	t.Helper()
	var got []string
	b := make([]byte, 64)
	for range 1000 {
		n, e := c.Read(caller, b, 0, true)
		if e == errno.EAGAIN {
			return got
		}
		if e != 0 {
			t.Fatalf("Read: %v", e)
		}
		if n == 0 {
			if tm := c.Termios(); !tm.LEnabled(linux.ICANON) {
				return got // a polling read with nothing
			}
			got = append(got, "<EOF>")
			continue
		}
		got = append(got, string(b[:n]))
	}
	t.Fatalf("reads do not end")
	return nil
}

// makeRaw changes t as golang.org/x/term's MakeRaw does (cfmakeraw).
func makeRaw(t *linux.KernelTermios) {
	t.InputFlags &^= linux.IGNBRK | linux.BRKINT | linux.PARMRK | linux.ISTRIP | linux.INLCR | linux.IGNCR | linux.ICRNL | linux.IXON
	t.OutputFlags &^= linux.OPOST
	t.LocalFlags &^= linux.ECHO | linux.ECHONL | linux.ICANON | linux.ISIG | linux.IEXTEN
	t.ControlFlags &^= linux.CSIZE | linux.PARENB
	t.ControlFlags |= linux.CS8
	t.ControlCharacters[linux.VMIN] = 1
	t.ControlCharacters[linux.VTIME] = 0
}
