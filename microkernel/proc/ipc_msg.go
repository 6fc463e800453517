package proc

import (
	"encoding/binary"

	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/caps"
	"valence.dev/ipc"
	"valence.dev/microkernel/fsclient"
	"valence.dev/microkernel/obj"
)

// Messages cross from one process's memory to another's through the
// kernel: the header and the valid data bytes are copied, and the handles
// listed in the header travel in a transit table of their own (moved out
// of the sender when the message is sent, moved into the receiver when it
// is received), so a message in flight holds its capabilities and nobody
// else can use them.

// readMessage copies a message from user memory at addr, validating the
// header's limits.
func readMessage(c *call, addr uint64, m *ipc.Message) errno.Errno {
	var hdr [ipc.HeaderSize]byte
	if err := c.as().CopyIn(addr, hdr[:]); err != nil {
		return errno.EFAULT
	}
	le := binary.LittleEndian
	m.Label = le.Uint64(hdr[0:])
	m.DataLen = le.Uint32(hdr[16:])
	m.NHandles = le.Uint32(hdr[20:])
	for i := range m.Handles {
		m.Handles[i] = ipc.Handle(le.Uint64(hdr[24+8*i:]))
	}
	m.Flags = 0
	m.Status = int32(le.Uint32(hdr[60:]))
	m.Badge = 0
	if m.DataLen > ipc.MaxData || m.NHandles > ipc.MaxHandles {
		return errno.EMSGSIZE
	}
	if m.DataLen > 0 {
		if err := c.as().CopyIn(addr+ipc.HeaderSize, m.Data[:m.DataLen]); err != nil {
			return errno.EFAULT
		}
	}
	return 0
}

// writeMessage copies m to user memory at addr (header and valid data).
func writeMessage(c *call, addr uint64, m *ipc.Message) errno.Errno {
	var hdr [ipc.HeaderSize]byte
	le := binary.LittleEndian
	le.PutUint64(hdr[0:], m.Label)
	le.PutUint64(hdr[8:], m.Badge)
	le.PutUint32(hdr[16:], m.DataLen)
	le.PutUint32(hdr[20:], m.NHandles)
	for i, h := range m.Handles {
		le.PutUint64(hdr[24+8*i:], uint64(h))
	}
	le.PutUint32(hdr[56:], m.Flags)
	le.PutUint32(hdr[60:], uint32(m.Status))
	if err := c.as().CopyOut(addr, hdr[:]); err != nil {
		return errno.EFAULT
	}
	if m.DataLen > 0 {
		if err := c.as().CopyOut(addr+ipc.HeaderSize, m.Data[:m.DataLen]); err != nil {
			return errno.EFAULT
		}
	}
	return 0
}

// transit is a message's handles in flight.
type transit struct {
	table *caps.Table
	n     int
	hs    [ipc.MaxHandles]ipc.Handle
}

// detach moves the handles a message names out of the sender's table into
// a new transit table. caps.MoveAll checks every handle (RightGrant, no
// capability named twice) and moves them under one lock, so either all
// move or none does, even if another thread of the sender closes one of
// them meanwhile.
func detach(c *call, m *ipc.Message) (*transit, errno.Errno) {
	if m.NHandles == 0 {
		return nil, 0
	}
	tr := &transit{table: capsys.NewTable(ipc.MaxHandles), n: int(m.NHandles)}
	hs, err := c.p.table().MoveAll(m.Handles[:m.NHandles], tr.table)
	if err != nil {
		tr.drop() // empty
		return nil, capErrno(err)
	}
	copy(tr.hs[:], hs)
	return tr, 0
}

// attach moves the handles in transit into the receiver's table, all or
// none, and rewrites the message's handle values. If they do not all fit
// in the receiver's table, none arrives: they are dropped and NHandles is
// 0.
func (tr *transit) attach(dst *caps.Table, m *ipc.Message) {
	// The sender's own handle values must not reach the receiver, not
	// even in the unused slots.
	m.NHandles = 0
	m.Handles = [ipc.MaxHandles]ipc.Handle{}
	if tr == nil {
		return
	}
	if hs, err := tr.table.MoveAll(tr.hs[:tr.n], dst); err == nil {
		m.NHandles = uint32(copy(m.Handles[:], hs))
	}
	tr.drop()
}

// Drop implements obj.Dropper: the endpoint drops a request's handles
// when it discards a call no receiver took.
func (tr *transit) Drop() { tr.drop() }

// drop destroys whatever is still in transit.
func (tr *transit) drop() {
	if tr == nil {
		return
	}
	orphaned(tr.table.Destroy())
}

// Values implements fsclient.Handles: the handles' values in the
// transit table, none for a nil one.
func (tr *transit) Values() []ipc.Handle {
	if tr == nil {
		return nil
	}
	return tr.hs[:tr.n]
}

// Object implements fsclient.Handles: the object handle h names in the
// transit table.
func (tr *transit) Object(h ipc.Handle) (any, bool) {
	cp, err := tr.table.Lookup(h, 0)
	if err != nil {
		return nil, false
	}
	return cp.Object, true
}

// A reply's transit table reaches the forwarding client as its Handles.
var _ fsclient.Handles = (*transit)(nil)

func transitOf(v any) *transit {
	tr, _ := v.(*transit)
	return tr
}

// sysCall implements valence_call(endpoint, request *Message, reply
// *Message): send the request and block until the server replies.
func sysCall(c *call) result {
	ep, cp, e := lookup[*obj.Endpoint](c, 0, ipc.RightWrite)
	if e != 0 {
		return fail(e)
	}
	cl := obj.NewCall(c.p.PID, cp.Badge)
	if e := readMessage(c, c.arg(1), &cl.Msg); e != 0 {
		return fail(e)
	}
	if !userRange(c.arg(2), ipc.HeaderSize) {
		return fail(errno.EFAULT)
	}
	tr, e := detach(c, &cl.Msg)
	if e != 0 {
		return fail(e)
	}
	cl.Transit = tr
	if err := ep.Send(cl); err != nil {
		tr.drop()
		return fail(capErrno(err))
	}
	// A call is not interrupted by signals: the server may already be
	// working on it, and giving up now could make the caller repeat a
	// request that was carried out. Signals wait until the reply; only
	// the caller's death abandons the call.
	c.t.inCall.Store(true)
	for waiting := true; waiting; {
		c.t.CanBlock()
		select {
		case <-cl.Done():
			waiting = false
		case <-c.t.intr:
			if c.p.Exiting() {
				ep.Abandon(cl)
				<-cl.Done()
				waiting = false
			}
		}
	}
	c.t.inCall.Store(false)
	if cl.Err != nil {
		// The request's handles are lost with the failed call: the server
		// is gone (or the caller gave up), and there is no one to give
		// them to but the caller, whose handle values would have changed.
		// Whoever took the call off the endpoint's queue dropped them (or
		// a receiver has them): cl.Transit is not ours to touch.
		return fail(capErrno(cl.Err))
	}
	transitOf(cl.ReplyTr).attach(c.p.table(), &cl.Reply)
	cl.Reply.Badge = 0
	e = writeMessage(c, c.arg(2), &cl.Reply)
	cl.Release()
	if e != 0 {
		return fail(e)
	}
	return ok0()
}

// receive waits on ep and writes what arrives to the buffer at addr,
// returning the call's token (0 for notification bits).
func receive(c *call, ep *obj.Endpoint, addr uint64) result {
	if !userRange(addr, ipc.HeaderSize+ipc.MaxData) {
		return fail(errno.EFAULT)
	}
	if !c.t.CanBlock() {
		return fail(errno.EINTR)
	}
	r, err := ep.Receive(c.t.intr, false)
	if err != nil {
		return fail(capErrno(err))
	}
	if r.Call == nil {
		m := ipc.Message{}
		m.Label, m.Flags = r.Bits, ipc.MsgNotification
		if e := writeMessage(c, addr, &m); e != 0 {
			return fail(e)
		}
		return ok0()
	}
	// The call is ours until Accept: nobody can reply to it (and so
	// complete and recycle it) while we copy the request out. If its
	// caller dies meanwhile the record stays valid (an abandoned call is
	// never recycled).
	cl := r.Call
	m := &cl.Msg
	transitOf(cl.Transit).attach(c.p.table(), m)
	cl.Transit = nil
	m.Badge = cl.Badge
	e := writeMessage(c, addr, m)
	tok := cl.Token
	if err := ep.Accept(cl); err != nil {
		return fail(capErrno(err))
	}
	if e != 0 {
		ep.Reply(tok, &ipc.Message{Header: ipc.Header{Status: -int32(errno.EFAULT)}}, nil)
		return fail(e)
	}
	return ok(tok)
}

// sysRecv implements valence_recv(endpoint, buffer *Message) -> token.
func sysRecv(c *call) result {
	ep, _, e := lookup[*obj.Endpoint](c, 0, ipc.RightRead)
	if e != 0 {
		return fail(e)
	}
	return receive(c, ep, c.arg(1))
}

// reply sends the reply at addr for call token on ep.
func reply(c *call, ep *obj.Endpoint, token, addr uint64) errno.Errno {
	var m ipc.Message
	if e := readMessage(c, addr, &m); e != 0 {
		return e
	}
	// A reply to no call (a bogus or already answered token) is refused
	// before its handles leave the replier; they are lost only if the
	// caller dies between this check and the reply (as if delivered).
	if m.NHandles > 0 && !ep.Pending(token) {
		return errno.EINVAL
	}
	tr, e := detach(c, &m)
	if e != 0 {
		return e
	}
	if err := ep.Reply(token, &m, tr); err != nil {
		tr.drop()
		return capErrno(err)
	}
	return 0
}

// sysReply implements valence_reply(endpoint, token, reply *Message).
func sysReply(c *call) result {
	ep, _, e := lookup[*obj.Endpoint](c, 0, ipc.RightRead)
	if e != 0 {
		return fail(e)
	}
	if e := reply(c, ep, c.arg(1), c.arg(2)); e != 0 {
		return fail(e)
	}
	return ok0()
}

// sysReplyRecv implements valence_reply_recv(endpoint, token, reply
// *Message, buffer *Message) -> token: reply to one call and wait for the
// next in one system call (token 0: nothing to reply to).
func sysReplyRecv(c *call) result {
	ep, _, e := lookup[*obj.Endpoint](c, 0, ipc.RightRead)
	if e != 0 {
		return fail(e)
	}
	if tok := c.arg(1); tok != 0 {
		if e := reply(c, ep, tok, c.arg(2)); e != 0 && e != errno.EINVAL {
			return fail(e)
		}
	}
	return receive(c, ep, c.arg(3))
}
