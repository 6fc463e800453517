package proc

import (
	"encoding/binary"

	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/caps"
	"valence.dev/ipc"
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
// a new transit table. Every handle is checked for RightGrant first, so
// either all move or none does.
func detach(c *call, m *ipc.Message) (*transit, errno.Errno) {
	if m.NHandles == 0 {
		return nil, 0
	}
	t := c.p.table()
	for i := uint32(0); i < m.NHandles; i++ {
		if _, err := t.Lookup(m.Handles[i], ipc.RightGrant); err != nil {
			return nil, capErrno(err)
		}
		for j := uint32(0); j < i; j++ {
			if m.Handles[j] == m.Handles[i] {
				return nil, errno.EINVAL // the same capability twice
			}
		}
	}
	tr := &transit{table: capsys.NewTable(ipc.MaxHandles), n: int(m.NHandles)}
	for i := 0; i < tr.n; i++ {
		h, err := t.Move(m.Handles[i], tr.table)
		if err != nil {
			// Cannot happen after the checks above unless another thread of
			// the sender closed the handle meanwhile; the moved ones are lost
			// with the transit table.
			tr.drop()
			return nil, capErrno(err)
		}
		tr.hs[i] = h
	}
	return tr, 0
}

// attach moves the handles in transit into the receiver's table and
// rewrites the message's handle values. If the receiver's table is full,
// the handles that did not fit are dropped and NHandles says how many
// arrived.
func (tr *transit) attach(dst *caps.Table, m *ipc.Message) {
	m.NHandles = 0
	if tr == nil {
		return
	}
	for i := 0; i < tr.n; i++ {
		h, err := tr.table.Move(tr.hs[i], dst)
		if err != nil {
			break
		}
		m.Handles[m.NHandles] = h
		m.NHandles++
	}
	tr.drop()
}

// drop destroys whatever is still in transit.
func (tr *transit) drop() {
	if tr == nil {
		return
	}
	orphaned(tr.table.Destroy())
}

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
	for waiting := true; waiting; {
		c.t.canBlock()
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
	if cl.Err != nil {
		// The request's handles are lost with the failed call: the server
		// is gone (or the caller gave up), and there is no one to give
		// them to but the caller, whose handle values would have changed.
		transitOf(cl.Transit).drop()
		transitOf(cl.ReplyTr).drop()
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
	if !c.t.canBlock() {
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
	cl := r.Call
	m := &cl.Msg // the caller is blocked until we reply, so this is ours
	transitOf(cl.Transit).attach(c.p.table(), m)
	cl.Transit = nil
	m.Badge = cl.Badge
	if e := writeMessage(c, addr, m); e != 0 {
		ep.Reply(cl.Token, &ipc.Message{Header: ipc.Header{Status: -int32(errno.EFAULT)}}, nil)
		return fail(e)
	}
	return ok(cl.Token)
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
