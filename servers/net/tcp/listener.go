package tcp

import (
	"net/netip"

	"valence.dev/servers/net/socket"
)

// Listener is a socket in LISTEN (RFC 9293 section 3.10.7.2). It creates a
// connection in SYN-RECEIVED for each acceptable SYN and queues those that
// complete the handshake until the application accepts them.
type Listener struct {
	socket.Notifier
	host     Host
	cfg      Config
	addr     netip.AddrPort
	backlog  int
	isn      func(ID) Seq
	halfOpen []*Conn // in arrival order, so that Close is deterministic
	queue    []*Conn
	closed   bool
}

// NewListener returns a listener on addr (its address may be unspecified
// to accept on any local address). Together, half-open and unaccepted
// connections are limited to backlog; SYNs beyond it are dropped, and the
// peer will retry. isn chooses each connection's initial sequence number.
func NewListener(host Host, cfg Config, addr netip.AddrPort, backlog int, isn func(ID) Seq) *Listener {
	return &Listener{host: host, cfg: cfg.WithDefaults(), addr: addr, backlog: max(backlog, 1),
		isn: isn}
}

// Addr returns the listening address.
func (l *Listener) Addr() netip.AddrPort { return l.addr }

// HandleSegment processes a segment for which no connection exists. It
// returns the new connection if the segment was an acceptable SYN; the
// caller enters it in its demultiplexing table.
func (l *Listener) HandleSegment(id ID, h *Header, payload []byte) *Conn {
	l.host.Stats().SegmentsIn++
	switch {
	case h.Flags&FlagRST != 0:
		return nil // "an incoming RST should be ignored"
	case h.Flags&FlagACK != 0:
		r, _ := ResetFor(h, len(payload))
		l.host.Stats().ResetsOut++
		l.host.Output(id, &r)
		return nil
	case h.Flags&FlagSYN == 0 || l.closed:
		return nil
	}
	if len(l.halfOpen)+len(l.queue) >= l.backlog {
		l.host.Stats().ListenOverflows++
		return nil
	}
	c := newConn(l.host, l.cfg, id)
	c.listener = l
	c.iss = l.isn(id)
	c.sndUna, c.sndNxt, c.sndMax, c.recover = c.iss, c.iss, c.iss, c.iss
	c.sndBufSeq = c.iss + 1
	c.irs, c.rcvNxt = h.Seq, h.Seq+1
	c.rcvAdv = c.rcvNxt
	c.offerWScale = h.WScale >= 0
	c.takeSynOptions(h)
	c.sndWnd = int(h.Window)
	c.sndWl1 = h.Seq
	c.state = SynReceived
	l.halfOpen = append(l.halfOpen, c)
	l.host.Stats().PassiveOpens++
	c.sendSyn()
	return c
}

// Accept returns the next established connection, or ErrWouldBlock.
func (l *Listener) Accept() (*Conn, error) {
	if l.closed {
		return nil, socket.ErrClosed
	}
	if len(l.queue) == 0 {
		return nil, socket.ErrWouldBlock
	}
	c := l.queue[0]
	l.queue[0] = nil
	l.queue = l.queue[1:]
	c.accepted = true
	return c, nil
}

// Events implements socket.Socket.
func (l *Listener) Events() socket.Events {
	var ev socket.Events
	if len(l.queue) > 0 {
		ev |= socket.Readable
	}
	if l.closed {
		ev |= socket.Hangup
	}
	return ev
}

// Close stops listening and resets every connection not yet accepted.
func (l *Listener) Close() {
	if l.closed {
		return
	}
	l.closed = true
	all := append(append([]*Conn(nil), l.halfOpen...), l.queue...)
	for _, c := range all {
		c.orphan = true
		c.Abort()
	}
	l.queue = nil
}

// Closed reports whether Close was called.
func (l *Listener) Closed() bool { return l.closed }

func (l *Listener) childEstablished(c *Conn) {
	if !remove(&l.halfOpen, c) {
		return
	}
	l.queue = append(l.queue, c)
	l.host.Changed(l)
}

func (l *Listener) dropChild(c *Conn) {
	if !remove(&l.halfOpen, c) {
		remove(&l.queue, c)
	}
}

func remove(list *[]*Conn, c *Conn) bool {
	for i, q := range *list {
		if q == c {
			*list = append((*list)[:i], (*list)[i+1:]...)
			return true
		}
	}
	return false
}
