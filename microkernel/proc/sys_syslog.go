package proc

import (
	"bytes"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/klog"
)

// The kernel log's marks for syslog(2): what SYSLOG_ACTION_CLEAR
// cleared up to, and what the destructive SYSLOG_ACTION_READ consumed.
// Positions are klog's (bytes ever logged).
var syslogMarks struct {
	mu      sync.Mutex
	cleared uint64
	read    uint64
}

// syslogPoll is how often a blocking SYSLOG_ACTION_READ looks for new
// log lines: klog appends with interrupts off and wakes nobody.
const syslogPoll = 100 * time.Millisecond

// sysSyslog implements syslog(2) (glibc's klogctl), the kernel log as
// dmesg reads it. Records are Linux's: "<6>" (no levels are kept; all are
// KERN_INFO), then the line as the console shows it, timestamp
// included. Reading all (READ_ALL) and the ring's size are open to
// everyone, as with dmesg_restrict=0; the rest needs CAP_SYSLOG (or
// CAP_SYS_ADMIN). The console level calls are accepted but change
// nothing: every log line goes to the serial console.
func sysSyslog(c *call) result {
	typ, buf, n := c.iarg(0), c.arg(1), c.iarg(2)
	open := typ == unix.SYSLOG_ACTION_READ_ALL || typ == unix.SYSLOG_ACTION_SIZE_BUFFER
	if typ < unix.SYSLOG_ACTION_CLOSE || typ > unix.SYSLOG_ACTION_SIZE_BUFFER {
		return fail(errno.EINVAL)
	}
	if !open && !c.p.hasCap(linux.CAP_SYSLOG) && !c.p.hasCap(linux.CAP_SYS_ADMIN) {
		return fail(errno.EPERM)
	}
	switch typ {
	case unix.SYSLOG_ACTION_CLOSE, unix.SYSLOG_ACTION_OPEN,
		unix.SYSLOG_ACTION_CONSOLE_OFF, unix.SYSLOG_ACTION_CONSOLE_ON:
		return ok0()
	case unix.SYSLOG_ACTION_CONSOLE_LEVEL:
		if n < 1 || n > 8 {
			return fail(errno.EINVAL)
		}
		return ok0()
	case unix.SYSLOG_ACTION_SIZE_BUFFER:
		return ok(klog.RingSize)
	case unix.SYSLOG_ACTION_SIZE_UNREAD:
		syslogMarks.mu.Lock()
		mark := syslogMarks.read
		syslogMarks.mu.Unlock()
		b, _ := klog.Since(mark)
		return ok(uint64(len(records(b))))
	case unix.SYSLOG_ACTION_CLEAR:
		_, head := klog.Since(^uint64(0))
		syslogMarks.mu.Lock()
		syslogMarks.cleared = head
		syslogMarks.mu.Unlock()
		return ok0()
	}
	// The reads: a buffer and a non-negative length (0 reads nothing).
	if n < 0 || (buf == 0 && n > 0) {
		return fail(errno.EINVAL)
	}
	if n == 0 {
		return ok0()
	}
	if typ == unix.SYSLOG_ACTION_READ {
		return syslogRead(c, buf, int(n))
	}
	syslogMarks.mu.Lock()
	mark := syslogMarks.cleared
	syslogMarks.mu.Unlock()
	b, head := klog.Since(mark)
	out := tailRecords(records(b), int(n))
	if err := c.as().CopyOut(buf, out); err != nil {
		return fail(errno.EFAULT)
	}
	if typ == unix.SYSLOG_ACTION_READ_CLEAR {
		syslogMarks.mu.Lock()
		syslogMarks.cleared = head
		syslogMarks.mu.Unlock()
	}
	return ok(uint64(len(out)))
}

// syslogRead is SYSLOG_ACTION_READ: wait until there are unread records,
// then take whole ones up to n bytes (at least the start of one).
func syslogRead(c *call, buf uint64, n int) result {
	for {
		syslogMarks.mu.Lock()
		b, head := klog.Since(syslogMarks.read)
		if len(b) > 0 {
			out, used := headRecords(b, n)
			if err := c.as().CopyOut(buf, out); err != nil {
				syslogMarks.mu.Unlock()
				return fail(errno.EFAULT)
			}
			syslogMarks.read = head - uint64(len(b)-used)
			syslogMarks.mu.Unlock()
			return ok(uint64(len(out)))
		}
		syslogMarks.mu.Unlock()
		if !c.t.sleep(syslogPoll) {
			return fail(errno.EINTR)
		}
	}
}

// records turns raw log bytes into syslog records: a partial first line
// (the ring wrapped inside it) is dropped, and each line gets "<6>".
func records(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 && len(b) > 0 && !bytes.HasPrefix(b, []byte("[")) {
		b = b[i+1:]
	}
	var out []byte
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line = b[:i+1]
		}
		out = append(append(out, "<6>"...), line...)
		b = b[len(line):]
	}
	return out
}

// tailRecords is the last whole lines of recs that fit in n bytes (or
// the last n bytes when one line is longer), as Linux's READ_ALL gives
// the newest records.
func tailRecords(recs []byte, n int) []byte {
	if len(recs) <= n {
		return recs
	}
	t := recs[len(recs)-n:]
	if recs[len(recs)-n-1] == '\n' {
		return t // cut between records
	}
	if i := bytes.IndexByte(t, '\n'); i >= 0 && i+1 < len(t) {
		return t[i+1:]
	}
	return t
}

// headRecords is the first whole records of raw log bytes b that fit in
// n bytes once prefixed, and how many bytes of b they used; a first line
// too long for n is cut.
func headRecords(b []byte, n int) ([]byte, int) {
	var out []byte
	used := 0
	for used < len(b) {
		line := b[used:]
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line = line[:i+1]
		}
		rec := append([]byte("<6>"), line...)
		if len(out)+len(rec) > n {
			if len(out) == 0 {
				// A line longer than n: its first n bytes, prefix
				// included; the rest is read next time (a buffer of
				// 3 bytes or less gets the prefix each time).
				return rec[:n], max(n-3, 0)
			}
			break
		}
		out = append(out, rec...)
		used += len(line)
	}
	return out, used
}
