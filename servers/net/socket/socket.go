package socket

import "errors"

// Events is a set of readiness conditions.
type Events uint8

// Readiness conditions, after poll(2).
const (
	Readable Events = 1 << iota // Read or Accept will not return ErrWouldBlock
	Writable                    // Write will accept at least one byte
	Hangup                      // the peer closed or the connection ended
	Error                       // an error is pending
)

func (e Events) String() string {
	s := ""
	for i, name := range []string{"R", "W", "H", "E"} {
		if e&(1<<i) != 0 {
			s += name
		}
	}
	if s == "" {
		return "-"
	}
	return s
}

// Errors returned by socket calls. Callers compare with errors.Is.
var (
	ErrWouldBlock   = errors.New("operation would block")
	ErrClosed       = errors.New("socket closed")
	ErrNotConnected = errors.New("socket not connected")
	ErrConnRefused  = errors.New("connection refused")
	ErrConnReset    = errors.New("connection reset by peer")
	ErrConnAborted  = errors.New("connection aborted")
	ErrTimeout      = errors.New("connection timed out")
	ErrAddrInUse    = errors.New("address already in use")
	ErrNoRoute      = errors.New("no route to host")
	ErrUnreachable  = errors.New("destination unreachable")
	ErrMessageSize  = errors.New("message too long")
	ErrInvalid      = errors.New("invalid argument")
	ErrShutdown     = errors.New("socket shut down for writing")
)

// Notifier is embedded in sockets: it holds the owner's callback and
// whether a notification is waiting to be delivered.
type Notifier struct {
	fn      func(Events)
	pending bool
}

// SetNotify sets the function called when readiness may have changed. The
// stack calls it on its event loop between events.
func (n *Notifier) SetNotify(fn func(Events)) { n.fn = fn }

// MarkPending records that a notification is due and reports whether it
// was not already due (so the caller queues the socket once).
func (n *Notifier) MarkPending() bool {
	if n.pending || n.fn == nil {
		return false
	}
	n.pending = true
	return true
}

// Deliver calls the callback with ev if a notification is pending.
func (n *Notifier) Deliver(ev Events) {
	if !n.pending {
		return
	}
	n.pending = false
	if n.fn != nil {
		n.fn(ev)
	}
}

// Socket is what the stack needs to deliver notifications to any socket.
type Socket interface {
	Events() Events
	MarkPending() bool
	Deliver(Events)
}
