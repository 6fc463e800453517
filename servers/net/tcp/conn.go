package tcp

import (
	"net/netip"
	"time"

	"valence.dev/servers/net/clock"
	"valence.dev/servers/net/socket"
)

// State is a connection state (RFC 9293 section 3.3.2).
type State int

// Connection states.
const (
	Closed State = iota
	Listen
	SynSent
	SynReceived
	Established
	FinWait1
	FinWait2
	CloseWait
	Closing
	LastAck
	TimeWait
)

var stateNames = [...]string{"CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED",
	"FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT"}

func (s State) String() string { return stateNames[s] }

// synchronized reports whether the state is one of those after the
// handshake (RFC 9293 section 3.5.2, case 3).
func (s State) synchronized() bool { return s >= Established }

// ID names a connection by its four-tuple.
type ID struct {
	Local, Remote netip.AddrPort
}

// Host is what a connection needs from the stack that owns it. All calls
// happen on the stack's event loop.
type Host interface {
	// Now returns the current time.
	Now() time.Duration
	// Timers returns the stack's timer queue.
	Timers() *clock.Queue
	// Output transmits a segment: the host encodes h with the payload
	// pieces after IPv4 and Ethernet headers. It must not keep payload.
	Output(id ID, h *Header, payload ...[]byte)
	// Changed records that s's readiness may have changed.
	Changed(s socket.Socket)
	// Closed tells the host that c reached CLOSED and must be forgotten.
	Closed(c *Conn)
	// Stats returns the stack's TCP counters.
	Stats() *Stats
}

// Config tunes connections. Zero fields take the values of DefaultConfig.
type Config struct {
	SendBuffer int // bytes the application can queue
	RecvBuffer int // bytes of receive window
	MSS        int // largest segment we accept: the route's MTU less 40

	InitialRTO time.Duration // RFC 6298 section 2.1: 1 s
	MinRTO     time.Duration // RFC 6298 section 2.4 says 1 s; Linux uses 200 ms
	MaxRTO     time.Duration // RFC 6298 section 2.5: at least 60 s
	MaxRetries int           // retransmissions of data before giving up
	SynRetries int           // retransmissions of a SYN before giving up
	DelayedAck time.Duration // RFC 9293 section 3.8.6.3: under 0.5 s
	MSL        time.Duration // maximum segment lifetime; TIME-WAIT lasts 2 MSL

	FinWait2Timeout time.Duration // how long an orphan waits for the peer's FIN
	// InvalidAckInterval spaces the ACKs sent in answer to unacceptable
	// segments without data (see sendInvalidAck).
	InvalidAckInterval time.Duration
	KeepIdle           time.Duration // RFC 1122 section 4.2.3.6: at least 2 hours
	KeepInterval       time.Duration
	KeepCount          int
	Nagle              bool // delay small segments (RFC 1122 section 4.2.3.4)
}

// DefaultConfig holds the defaults.
var DefaultConfig = Config{
	SendBuffer:         256 << 10,
	RecvBuffer:         256 << 10,
	MSS:                1460,
	InitialRTO:         time.Second,
	MinRTO:             200 * time.Millisecond,
	MaxRTO:             60 * time.Second,
	MaxRetries:         15,
	SynRetries:         6,
	DelayedAck:         40 * time.Millisecond,
	MSL:                30 * time.Second,
	FinWait2Timeout:    60 * time.Second,
	InvalidAckInterval: 500 * time.Millisecond,
	KeepIdle:           2 * time.Hour,
	KeepInterval:       75 * time.Second,
	KeepCount:          9,
}

// WithDefaults returns c with zero fields filled in.
func (c Config) WithDefaults() Config {
	d := DefaultConfig
	set := func(dst *int, v int) {
		if v > 0 {
			*dst = v
		}
	}
	setD := func(dst *time.Duration, v time.Duration) {
		if v > 0 {
			*dst = v
		}
	}
	set(&d.SendBuffer, c.SendBuffer)
	set(&d.RecvBuffer, c.RecvBuffer)
	set(&d.MSS, c.MSS)
	setD(&d.InitialRTO, c.InitialRTO)
	setD(&d.MinRTO, c.MinRTO)
	setD(&d.MaxRTO, c.MaxRTO)
	set(&d.MaxRetries, c.MaxRetries)
	set(&d.SynRetries, c.SynRetries)
	setD(&d.DelayedAck, c.DelayedAck)
	setD(&d.MSL, c.MSL)
	setD(&d.FinWait2Timeout, c.FinWait2Timeout)
	setD(&d.InvalidAckInterval, c.InvalidAckInterval)
	setD(&d.KeepIdle, c.KeepIdle)
	setD(&d.KeepInterval, c.KeepInterval)
	set(&d.KeepCount, c.KeepCount)
	d.Nagle = c.Nagle
	return d
}

// Stats counts TCP events across a stack.
type Stats struct {
	ActiveOpens, PassiveOpens   uint64
	Established                 uint64
	SegmentsIn, SegmentsOut     uint64
	Retransmits                 uint64 // segments sent again for any reason
	FastRetransmits             uint64
	Timeouts                    uint64 // retransmission timer expiries
	ResetsIn, ResetsOut         uint64
	ChallengeAcks               uint64 // RFC 5961
	DroppedOutOfWindow          uint64
	ListenOverflows             uint64 // SYNs refused: backlog full
	ZeroWindowProbes, KeepAlive uint64
	InvalidAcksLimited          uint64 // answers withheld by the ACK rate limit
}

// Conn is one TCP connection: a transmission control block (RFC 9293
// section 3.3.1) with its buffers and timers. Its methods must be called on
// the stack's event loop; none blocks.
type Conn struct {
	socket.Notifier
	host     Host
	cfg      Config
	id       ID
	state    State
	listener *Listener // set for a passive open until accepted
	accepted bool

	// Send sequence space (RFC 9293 section 3.3.1, figure 3).
	iss, sndUna, sndNxt Seq
	sndMax              Seq // highest sequence sent plus one
	sndWnd, sndWndMax   int // peer's window (scaled), and its largest
	sndWl1, sndWl2      Seq
	sndBuf              ring
	sndBufSeq           Seq // sequence number of sndBuf's first byte
	sndMSS              int
	finQueued           bool // the application is done writing

	// Receive sequence space.
	irs, rcvNxt Seq
	rcvAdv      Seq // right edge of the window we last advertised
	rcvBuf      recvBuffer
	finRcvd     bool
	oooFin      bool // a FIN arrived beyond a gap, at oooFinSeq
	oooFinSeq   Seq
	readShut    bool

	sndWScale, rcvWScale int // window shifts (RFC 7323); 0 unless both sides sent one
	offerWScale          bool

	// Congestion control (RFC 5681, RFC 6582).
	cwnd, ssthresh int
	ackedBytes     int // for congestion avoidance byte counting
	dupAcks        int
	recover        Seq
	inRecovery     bool

	// Round-trip estimation (RFC 6298).
	srtt, rttvar, rto time.Duration
	haveRTT           bool
	timing            bool
	timedSeq          Seq
	timedAt           time.Duration
	backoff           int

	rexmt, persist, delack, keep, wait *clock.Timer
	persistBackoff                     int
	ackPending                         int // in-order segments not yet acknowledged
	lastRecv                           time.Duration
	keepAlive                          bool
	keepProbes                         int

	invalidAckSent bool
	lastInvalidAck time.Duration

	err     error // why the connection failed, once it has
	orphan  bool  // the application closed it
	noDelay bool
}

func newConn(host Host, cfg Config, id ID) *Conn {
	c := &Conn{host: host, cfg: cfg, id: id, noDelay: !cfg.Nagle}
	q := host.Timers()
	c.rexmt = q.NewTimer(c.onRetransmit)
	c.persist = q.NewTimer(c.onPersist)
	c.delack = q.NewTimer(c.onDelayedAck)
	c.keep = q.NewTimer(c.onKeepAlive)
	c.wait = q.NewTimer(c.onWait)
	c.rto = cfg.InitialRTO
	c.sndBuf = newRing(cfg.SendBuffer)
	c.rcvBuf = newRecvBuffer(cfg.RecvBuffer)
	c.sndMSS = min(536, cfg.MSS)
	// Offer the smallest shift that lets the whole buffer be advertised.
	for c.rcvWScale < MaxWindowScale && cfg.RecvBuffer>>c.rcvWScale > 0xffff {
		c.rcvWScale++
	}
	c.offerWScale = true
	c.lastRecv = host.Now()
	return c
}

// Connect starts an active open (RFC 9293 section 3.10.1): it sends a SYN
// with initial sequence number iss and returns the connection in SYN-SENT.
func Connect(host Host, cfg Config, id ID, iss Seq) *Conn {
	c := newConn(host, cfg.WithDefaults(), id)
	c.iss, c.sndUna, c.sndNxt, c.sndMax, c.recover = iss, iss, iss, iss, iss
	c.sndBufSeq = iss + 1
	c.state = SynSent
	host.Stats().ActiveOpens++
	c.sendSyn()
	return c
}

// ID returns the connection's four-tuple.
func (c *Conn) ID() ID { return c.id }

// State returns the connection state.
func (c *Conn) State() State { return c.state }

// Err returns the error that ended the connection, if any.
func (c *Conn) Err() error { return c.err }

// changed tells the host the readiness may have changed.
func (c *Conn) changed() {
	if c.listener != nil && !c.accepted {
		return
	}
	c.host.Changed(c)
}

// enterClosed ends the connection: timers stop, the error (if any) is kept
// for the application, and the host forgets the connection once the
// application has let go of it.
func (c *Conn) enterClosed(err error) {
	if c.state == Closed {
		return
	}
	if c.err == nil && err != nil {
		c.err = err
	}
	c.state = Closed
	for _, t := range []*clock.Timer{c.rexmt, c.persist, c.delack, c.keep, c.wait} {
		t.Stop()
	}
	if c.listener != nil && !c.accepted {
		c.listener.dropChild(c)
	}
	c.host.Closed(c)
	if !c.orphan {
		c.changed()
	}
}
