package obj

import (
	"errors"
	"sync"
	"sync/atomic"

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
//
// A call record is pooled (NewCall, Release) and so its life has strict
// hand-offs. The caller owns it until Send; then the endpoint's queue,
// then one receiver (between Receive and Accept: copying the request
// out), then the endpoint's active set. Exactly one party completes it:
// whoever wins the claim (state 0 -> 1) writes the result and closes done,
// and touches the record no more after that close — from then on it
// belongs to the caller again, who may recycle it at once. (Completing
// through a sync.Once broke this: Once.Do still unlocks its mutex after
// the function returns, by which time the caller could have reset the
// record for another call.)
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
	state   atomic.Uint32 // 0 in flight, 1 claimed by the party completing it
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
	c.state.Store(0)
	return c
}

// Release returns a completed call for reuse. Only the caller may release
// it, after Done, and only a call that was answered: a failed or abandoned
// call may still be looked at by a receiver that took it (an abandoned
// call can be between Receive and Accept), so it is left to the garbage
// collector.
func (c *Call) Release() {
	if c.Err == nil {
		calls.Put(c)
	}
}

// Done is closed when the call has its result.
func (c *Call) Done() <-chan struct{} { return c.done }

// claim makes the caller the one party that completes c.
func (c *Call) claim() bool { return c.state.CompareAndSwap(0, 1) }

// finish completes c with err unless another party already completed it.
func (c *Call) finish(err error) {
	if !c.claim() {
		return
	}
	c.Err = err
	close(c.done) // the last touch: the caller may recycle c from here on
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
	queued := false
	for i, q := range e.queue {
		if q == c {
			e.queue = append(e.queue[:i:i], e.queue[i+1:]...)
			queued = true
			break
		}
	}
	delete(e.active, c.Token)
	e.mu.Unlock()
	if queued {
		dropTransit(c)
	}
	c.finish(ErrInterrupted)
}

// Dropper is what a call's Transit implements: the handles travelling
// with a request that no receiver will take are destroyed with Drop.
type Dropper interface{ Drop() }

// dropTransit destroys the request handles of a call that was taken off
// the queue undelivered. Whoever takes a call off the queue owns its
// Transit: a receiver, or Abandon or Kill here.
func dropTransit(c *Call) {
	if d, ok := c.Transit.(Dropper); ok {
		d.Drop()
	}
	c.Transit = nil
}

// Received is what Receive returns: a call, or notification bits.
type Received struct {
	Call *Call
	Bits uint64 // when Call is nil
}

// Receive waits for the next call or, if a notification is bound, its
// bits. intr ends the wait with ErrInterrupted. A call it returns belongs
// to the receiver until Accept: nobody can reply to it (or complete and
// recycle it) while the receiver copies the request out.
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
			e.queue[0] = nil
			e.queue = e.queue[1:]
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

// Accept makes a received call answerable by its token. If the endpoint
// died meanwhile the call fails with ErrPeerDied (and Accept says so); if
// its caller abandoned it, a later Reply finds it already complete.
func (e *Endpoint) Accept(c *Call) error {
	e.mu.Lock()
	if e.dead {
		e.mu.Unlock()
		c.finish(ErrPeerDied)
		return ErrPeerDied
	}
	e.active[c.Token] = c
	e.mu.Unlock()
	return nil
}

// Reply completes call token with reply (and the handles in tr). It fails
// with ErrNoCall if there is no such call or it was completed otherwise
// (its caller gave up): the caller of Reply still owns tr then.
func (e *Endpoint) Reply(token uint64, reply *ipc.Message, tr any) error {
	e.mu.Lock()
	c, ok := e.active[token]
	delete(e.active, token)
	e.mu.Unlock()
	if !ok || !c.claim() {
		return ErrNoCall
	}
	c.Reply = *reply
	c.ReplyTr = tr
	c.Err = nil
	close(c.done) // the last touch: the caller may recycle c from here on
	return nil
}

// Pending reports whether token names a call received on e that is still
// waiting for its reply, so that a reply to no call can be refused before
// its handles move.
func (e *Endpoint) Pending(token uint64) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.active[token]
	return ok && c.state.Load() == 0
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
	queued, active := e.queue, mapValues(e.active)
	e.queue, e.active = nil, map[uint64]*Call{}
	n := e.notif
	e.notif = nil
	e.mu.Unlock()
	for _, c := range queued {
		dropTransit(c)
		c.finish(ErrPeerDied)
	}
	for _, c := range active {
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
