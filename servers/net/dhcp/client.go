package dhcp

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"valence.dev/servers/net/clock"
	"valence.dev/servers/net/socket"
	"valence.dev/servers/net/stack"
)

// State is a client state (RFC 2131 section 4.4, figure 5).
type State int

// Client states.
const (
	Init State = iota
	Selecting
	Requesting
	Bound
	Renewing
	Rebinding
	Stopped
)

var stateNames = [...]string{"INIT", "SELECTING", "REQUESTING", "BOUND", "RENEWING", "REBINDING", "STOPPED"}

func (s State) String() string { return stateNames[s] }

// Lease is what the server granted.
type Lease struct {
	Addr     netip.Prefix
	Router   netip.Addr // invalid if none
	DNS      []netip.Addr
	Server   netip.Addr
	Duration time.Duration
	T1, T2   time.Duration
	Acquired time.Duration // stack time of the ACK
}

func (l Lease) String() string {
	if !l.Addr.IsValid() {
		return "no lease"
	}
	return fmt.Sprintf("%v router %v dns %v from %v for %v", l.Addr, l.Router, l.DNS, l.Server, l.Duration)
}

// Config configures a client.
type Config struct {
	Hostname string
	// OnChange is called on the event loop when a lease is obtained,
	// renewed or lost (then with a zero Lease).
	OnChange func(Lease)
}

// Client is a DHCP client bound to one stack.
type Client struct {
	s       *stack.Stack
	cfg     Config
	sock    *stack.UDPSocket
	state   State
	xid     uint32
	server  netip.Addr
	offered netip.Addr
	lease   Lease
	start   time.Duration // when the current exchange began (secs field)
	tries   int
	retry   *clock.Timer
	t1, t2  *clock.Timer
	expire  *clock.Timer
	buf     []byte
}

// Start begins acquiring a lease. It must run on the stack's event loop.
func Start(s *stack.Stack, cfg Config) (*Client, error) {
	sock, err := s.ListenUDP(ClientPort)
	if err != nil {
		return nil, fmt.Errorf("dhcp: bind port %d: %w", ClientPort, err)
	}
	c := &Client{s: s, cfg: cfg, sock: sock, buf: make([]byte, 1500)}
	q := s.Timers()
	c.retry = q.NewTimer(c.onRetry)
	c.t1 = q.NewTimer(func() { c.enterRenew(Renewing) })
	c.t2 = q.NewTimer(func() { c.enterRenew(Rebinding) })
	c.expire = q.NewTimer(c.onExpire)
	sock.SetNotify(func(socket.Events) { c.receive() })
	c.restart()
	return c, nil
}

// State returns the client state.
func (c *Client) State() State { return c.state }

// Lease returns the current lease, if bound.
func (c *Client) Lease() (Lease, bool) {
	return c.lease, c.state == Bound || c.state == Renewing || c.state == Rebinding
}

// Stop releases the lease (RFC 2131 section 4.4.6) and closes the socket.
func (c *Client) Stop() {
	if _, ok := c.Lease(); ok {
		m := c.message(Release)
		m.CIAddr = c.lease.Addr.Addr()
		m.SetAddr(OptServerID, c.lease.Server)
		c.send(m, c.lease.Server)
		c.s.SetAddress(netip.Prefix{})
	}
	c.state = Stopped
	for _, t := range []*clock.Timer{c.retry, c.t1, c.t2, c.expire} {
		t.Stop()
	}
	c.sock.Close()
}

// restart returns to INIT and broadcasts a DISCOVER.
func (c *Client) restart() {
	c.state = Selecting
	c.xid = c.s.Rand().Uint32()
	c.start = c.s.Now()
	c.tries = 0
	c.server, c.offered = netip.Addr{}, netip.Addr{}
	c.sendCurrent()
}

func (c *Client) message(typ uint8) *Message {
	m := &Message{Op: opRequest, XID: c.xid, CHAddr: c.s.MAC(), Type: typ}
	m.Secs = uint16(min((c.s.Now()-c.start)/time.Second, 0xffff))
	mac := c.s.MAC()
	m.setOpt(OptClientID, append([]byte{1}, mac[:]...))
	if c.cfg.Hostname != "" {
		m.setOpt(OptHostname, []byte(c.cfg.Hostname))
	}
	m.setOpt(OptParamRequest, []byte{OptSubnetMask, OptRouter, OptDNS, OptLeaseTime, OptRenewalT1, OptRebindingT2})
	return m
}

// sendCurrent sends the message the current state calls for and arms the
// retransmission timer.
func (c *Client) sendCurrent() {
	var m *Message
	dst := netip.IPv4Unspecified() // broadcast
	switch c.state {
	case Selecting:
		m = c.message(Discover)
		m.Broadcast = true
	case Requesting:
		m = c.message(Request)
		m.Broadcast = true
		m.SetAddr(OptRequestedIP, c.offered)
		m.SetAddr(OptServerID, c.server)
	case Renewing, Rebinding:
		// Section 4.3.2: ciaddr set, no server id or requested IP; unicast
		// to the server when renewing, broadcast when rebinding.
		m = c.message(Request)
		m.CIAddr = c.lease.Addr.Addr()
		if c.state == Renewing {
			dst = c.lease.Server
		}
	default:
		return
	}
	c.send(m, dst)
	c.retry.Set(c.s.Now() + c.retryDelay())
	c.tries++
}

// retryDelay is the backoff of section 4.1, or of section 4.4.5 when
// renewing or rebinding.
func (c *Client) retryDelay() time.Duration {
	if c.state == Renewing || c.state == Rebinding {
		end := c.lease.Acquired + c.lease.T2
		if c.state == Rebinding {
			end = c.lease.Acquired + c.lease.Duration
		}
		return max((end-c.s.Now())/2, 60*time.Second)
	}
	d := 4 * time.Second << min(c.tries, 4)
	jitter := time.Duration(c.s.Rand().Int63n(int64(2*time.Second))) - time.Second
	return d + jitter
}

func (c *Client) send(m *Message, dst netip.Addr) {
	if dst.IsUnspecified() {
		dst = netip.AddrFrom4([4]byte{255, 255, 255, 255})
	}
	c.sock.SendTo(m.Marshal(), netip.AddrPortFrom(dst, ServerPort))
}

func (c *Client) onRetry() {
	switch c.state {
	case Init:
		c.restart()
		return
	case Requesting:
		if c.tries >= 4 { // no answer to our REQUEST: start over
			c.restart()
			return
		}
	}
	c.sendCurrent()
}

func (c *Client) receive() {
	for {
		n, _, err := c.sock.RecvFrom(c.buf)
		if errors.Is(err, socket.ErrWouldBlock) || errors.Is(err, socket.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		m, err := Parse(c.buf[:n])
		if err != nil || m.Op != opReply || m.XID != c.xid || m.CHAddr != c.s.MAC() {
			continue
		}
		c.handle(m)
	}
}

func (c *Client) handle(m *Message) {
	server, _ := m.Addr(OptServerID)
	switch {
	case c.state == Selecting && m.Type == Offer:
		if !m.YIAddr.Is4() || m.YIAddr.IsUnspecified() || !server.IsValid() {
			return
		}
		// Take the first offer (section 4.4.1 allows any choice).
		c.state, c.offered, c.server, c.tries = Requesting, m.YIAddr, server, 0
		c.sendCurrent()
	case (c.state == Requesting || c.state == Renewing || c.state == Rebinding) && m.Type == Ack:
		c.bind(m, server)
	case (c.state == Requesting || c.state == Renewing || c.state == Rebinding) && m.Type == Nak:
		// Start over, after a pause so that a server that keeps saying no
		// is not answered at line rate (compare section 3.1 step 5's ten
		// seconds after a DECLINE).
		c.drop()
		c.state = Init
		c.retry.Set(c.s.Now() + 4*time.Second)
	}
}

// bind applies an ACK: configure the stack and arm T1, T2 and expiry
// (section 4.4.5: T1 defaults to half the lease, T2 to 7/8).
func (c *Client) bind(m *Message, server netip.Addr) {
	lease, ok := m.Duration(OptLeaseTime)
	if !ok || !m.YIAddr.Is4() || m.YIAddr.IsUnspecified() {
		return
	}
	if !server.IsValid() {
		server = c.server
	}
	bits := 24
	if mask, ok := m.Addr(OptSubnetMask); ok {
		bits = maskBits(mask.As4())
	}
	l := Lease{Addr: netip.PrefixFrom(m.YIAddr, bits), DNS: m.Addrs(OptDNS), Server: server,
		Duration: lease, Acquired: c.s.Now()}
	if r, ok := m.Addr(OptRouter); ok {
		l.Router = r
	}
	l.T1, ok = m.Duration(OptRenewalT1)
	if !ok || l.T1 >= lease {
		l.T1 = lease / 2
	}
	l.T2, ok = m.Duration(OptRebindingT2)
	if !ok || l.T2 >= lease || l.T2 <= l.T1 {
		l.T2 = lease * 7 / 8
	}
	changed := l.Addr != c.lease.Addr || l.Router != c.lease.Router
	c.lease, c.state, c.tries = l, Bound, 0
	c.retry.Stop()
	if changed {
		c.s.SetAddress(l.Addr)
		c.s.SetGateway(l.Router)
	}
	now := c.s.Now()
	c.t1.Set(now + l.T1)
	c.t2.Set(now + l.T2)
	c.expire.Set(now + l.Duration)
	if c.cfg.OnChange != nil {
		c.cfg.OnChange(l)
	}
}

func (c *Client) enterRenew(st State) {
	if c.state != Bound && !(c.state == Renewing && st == Rebinding) {
		return
	}
	c.state, c.tries = st, 0
	c.xid = c.s.Rand().Uint32()
	c.start = c.s.Now()
	c.sendCurrent()
}

func (c *Client) onExpire() {
	c.drop()
	c.restart()
}

// drop forgets the lease and the address.
func (c *Client) drop() {
	had := c.lease.Addr.IsValid()
	c.lease = Lease{}
	c.t1.Stop()
	c.t2.Stop()
	c.expire.Stop()
	if had {
		c.s.SetAddress(netip.Prefix{})
		c.s.SetGateway(netip.Addr{})
		if c.cfg.OnChange != nil {
			c.cfg.OnChange(Lease{})
		}
	}
}

func maskBits(m [4]byte) int {
	v := uint32(m[0])<<24 | uint32(m[1])<<16 | uint32(m[2])<<8 | uint32(m[3])
	n := 0
	for v&0x80000000 != 0 {
		n++
		v <<= 1
	}
	return n
}
