package obj

import (
	"errors"
	"sync"

	"valence.dev/ipc"
)

// Errors of endpoint operations.
var (
	ErrPeerDied    = errors.New("obj: peer died")
	ErrInterrupted = errors.New("obj: interrupted")
	ErrNoCall      = errors.New("obj: no such call to reply to")
	ErrWouldBlock  = errors.New("obj: would block")
)

// Endpoint is a synchronous message-passing rendezvous.
type Endpoint struct {
	ID    uint64
	Owner int // PID of the process whose death kills the endpoint

	mu     sync.Mutex
	dead   bool
	gen    uint64
	queue  []*Call
	active map[uint64]*Call // received, not yet replied
	ev     event            // a call arrived, or the endpoint died
	notif  *Notification
}

// Call is one call in flight.
type Call struct {
	Msg     ipc.Message // the request, as copied from the caller
	Badge   uint64      // of the capability the caller used
	Transit any         // the handles travelling with the request (proc's business)
	Caller  int         // PID
	Token   uint64      // identifies the call to Reply

	done    chan struct{} // closed when Reply or failure filled the result
	Reply   ipc.Message
	ReplyTr any // handles travelling with the reply
	Err     error
	once    sync.Once
}

// calls recycles Call records: each holds two 4 KiB messages, and a
// call/reply round trip should not allocate them anew.
var calls = sync.Pool{New: func() any { return new(Call) }}

// NewCall prepares a call.
func NewCall(caller int, badge uint64) *Call {
	c := calls.Get().(*Call)
	c.Msg.Header = ipc.Header{}
	c.Reply.Header = ipc.Header{}
	c.Badge, c.Caller, c.Token = badge, caller, 0
	c.Transit, c.ReplyTr, c.Err = nil, nil, nil
	c.done = make(chan struct{})
	c.once = sync.Once{}
	return c
}

// Release returns a completed call for reuse. Only a call that was
// answered may be released: then the receiver has finished with it.
// Failed or abandoned calls are left to the garbage collector, because a
// receiver may still be looking at them.
func (c *Call) Release() {
	if c.Err == nil {
		calls.Put(c)
	}
}

// Done is closed when the call has its result.
func (c *Call) Done() <-chan struct{} { return c.done }

func (c *Call) finish(err error) {
	c.once.Do(func() {
		c.Err = err
		close(c.done)
	})
}

// NewEndpoint makes an endpoint owned by process owner.
func NewEndpoint(owner int) *Endpoint {
	return &Endpoint{ID: NewID(), Owner: owner, active: map[uint64]*Call{}, gen: 1}
}

// Gen is the endpoint's generation, which changes when it dies.
func (e *Endpoint) Gen() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.gen
}

// Dead reports whether the endpoint's owner died.
func (e *Endpoint) Dead() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.dead
}

var tokenMu sync.Mutex
var nextToken uint64

func newToken() uint64 {
	tokenMu.Lock()
	defer tokenMu.Unlock()
	nextToken++
	return nextToken
}

// Send queues c for a receiver. The caller then waits on c.Done().
func (e *Endpoint) Send(c *Call) error {
	e.mu.Lock()
	if e.dead {
		e.mu.Unlock()
		return ErrPeerDied
	}
	c.Token = newToken()
	e.queue = append(e.queue, c)
	e.mu.Unlock()
	e.ev.Signal()
	return nil
}

// Abandon withdraws a call whose caller stopped waiting (interrupted or
// dead): if no receiver took it yet it is dropped; if one did, its reply
// will be discarded.
func (e *Endpoint) Abandon(c *Call) {
	e.mu.Lock()
	for i, q := range e.queue {
		if q == c {
			e.queue = append(e.queue[:i:i], e.queue[i+1:]...)
			break
		}
	}
	delete(e.active, c.Token)
	e.mu.Unlock()
	c.finish(ErrInterrupted)
}

// Received is what Receive returns: a call, or notification bits.
type Received struct {
	Call *Call
	Bits uint64 // when Call is nil
}

// Receive waits for the next call or, if a notification is bound, its
// bits. intr ends the wait with ErrInterrupted.
func (e *Endpoint) Receive(intr <-chan struct{}, nonblock bool) (Received, error) {
	for {
		wait := e.ev.Wait()
		e.mu.Lock()
		if e.dead {
			e.mu.Unlock()
			return Received{}, ErrPeerDied
		}
		if len(e.queue) > 0 {
			c := e.queue[0]
			e.queue = e.queue[1:]
			e.active[c.Token] = c
			e.mu.Unlock()
			return Received{Call: c}, nil
		}
		n := e.notif
		e.mu.Unlock()
		if n != nil {
			if bits := n.take(); bits != 0 {
				return Received{Bits: bits}, nil
			}
		}
		if nonblock {
			return Received{}, ErrWouldBlock
		}
		select {
		case <-wait:
		case <-intr:
			return Received{}, ErrInterrupted
		}
	}
}

// Reply completes call token with reply (and the handles in tr).
func (e *Endpoint) Reply(token uint64, reply *ipc.Message, tr any) error {
	e.mu.Lock()
	c, ok := e.active[token]
	delete(e.active, token)
	e.mu.Unlock()
	if !ok {
		return ErrNoCall
	}
	c.Reply = *reply
	c.ReplyTr = tr
	c.finish(nil)
	return nil
}

// Kill is the owner's death: every waiting and future call fails with
// ErrPeerDied and the generation changes.
func (e *Endpoint) Kill() {
	e.mu.Lock()
	if e.dead {
		e.mu.Unlock()
		return
	}
	e.dead = true
	e.gen++
	calls := append(e.queue, mapValues(e.active)...)
	e.queue, e.active = nil, map[uint64]*Call{}
	n := e.notif
	e.notif = nil
	e.mu.Unlock()
	for _, c := range calls {
		c.finish(ErrPeerDied)
	}
	if n != nil {
		n.unbind(e)
	}
	e.ev.Signal()
}

func mapValues(m map[uint64]*Call) []*Call {
	out := make([]*Call, 0, len(m))
	for _, c := range m {
		out = append(out, c)
	}
	return out
}

// Bind attaches notification n: its bits arrive through Receive.
func (e *Endpoint) Bind(n *Notification) error {
	e.mu.Lock()
	if e.dead {
		e.mu.Unlock()
		return ErrPeerDied
	}
	e.notif = n
	e.mu.Unlock()
	n.bind(e)
	e.ev.Signal()
	return nil
}

// wake lets a bound notification wake receivers.
func (e *Endpoint) wake() { e.ev.Signal() }
