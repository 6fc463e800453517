package stack

import (
	"errors"
	"io"
	"math/rand"
	"net/netip"
	"time"

	"valence.dev/servers/net/arp"
	"valence.dev/servers/net/clock"
	"valence.dev/servers/net/ethernet"
	"valence.dev/servers/net/ipv4"
	"valence.dev/servers/net/link"
	"valence.dev/servers/net/socket"
	"valence.dev/servers/net/tcp"
)

// Config configures a stack. Zero fields take defaults.
type Config struct {
	MAC   ethernet.Address
	Clock clock.Clock // default: a real clock
	// Rand is where the stack draws its 256-bit secret, which keys every
	// random choice (ISNs, ephemeral ports, IP IDs, DHCP xids): default
	// crypto/rand. Tests inject SeededRand for deterministic runs.
	Rand io.Reader

	TCP        tcp.Config
	ARP        arp.Config
	Reassembly ipv4.ReassemblyConfig
	TTL        uint8 // default 64

	UDPQueueBytes int // per UDP socket receive queue (default 256 KiB)
	ICMPRate      int // ICMP errors per second (default 100)
}

// Stack is one instance of the TCP/IP stack on one link. It is not safe
// for concurrent use: exactly one goroutine (the event loop, or a test)
// calls it.
type Stack struct {
	cfg    Config
	clk    clock.Clock
	link   link.Endpoint
	mtu    int
	timers clock.Queue
	rnd    *rand.Rand

	addr    netip.Prefix // invalid until configured
	gateway netip.Addr

	arp        *arp.Cache
	arpTimer   *clock.Timer
	reasm      *ipv4.Reassembler
	reasmTimer *clock.Timer
	ipID       uint16

	tcpConns     map[tcp.ID]*tcp.Conn
	tcpListeners map[uint16]*tcp.Listener
	tcpPorts     map[uint16]int // local ports in use by connections
	isnKey       [32]byte
	udp          map[uint16]*UDPSocket
	pings        map[uint16]*PingSocket
	raws         []*RawSocket // raw.go

	icmpTokens   float64
	icmpRefilled time.Duration

	notify     []socket.Socket
	local      [][]byte // datagrams to ourselves (loopback.go)
	localTimer *clock.Timer
	stats      Stats
	buf        []byte // scratch for outgoing frames
	fbuf       []byte // scratch for fragments
	abuf       []byte // scratch for ARP
}

// New returns a stack that sends through ep. The caller feeds it frames
// with HandleFrame and runs its timers with RunTimers. It panics if
// cfg.Rand fails (crypto/rand does not).
func New(cfg Config, ep link.Endpoint) *Stack {
	rnd, err := newRand(cfg.Rand)
	if err != nil {
		panic(err)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.NewReal()
	}
	if cfg.TTL == 0 {
		cfg.TTL = 64
	}
	if cfg.UDPQueueBytes <= 0 {
		cfg.UDPQueueBytes = 256 << 10
	}
	if cfg.ICMPRate <= 0 {
		cfg.ICMPRate = 100
	}
	mtu := ep.MTU()
	cfg.TCP.MSS = mtu - ipv4.HeaderLen - tcp.HeaderLen
	cfg.TCP = cfg.TCP.WithDefaults()
	s := &Stack{
		cfg:          cfg,
		clk:          cfg.Clock,
		link:         ep,
		mtu:          mtu,
		rnd:          rnd,
		arp:          arp.NewCache(cfg.ARP),
		reasm:        ipv4.NewReassembler(cfg.Reassembly),
		tcpConns:     make(map[tcp.ID]*tcp.Conn),
		tcpListeners: make(map[uint16]*tcp.Listener),
		tcpPorts:     make(map[uint16]int),
		udp:          make(map[uint16]*UDPSocket),
		pings:        make(map[uint16]*PingSocket),
		buf:          make([]byte, ethernet.HeaderLen+ipv4.MaxDatagram),
		fbuf:         make([]byte, ethernet.HeaderLen+mtu),
		abuf:         make([]byte, ethernet.MinFrameLen),
		icmpTokens:   float64(cfg.ICMPRate),
	}
	s.rnd.Read(s.isnKey[:])
	s.ipID = uint16(s.rnd.Uint32())
	s.arpTimer = s.timers.NewTimer(s.onARPTimer)
	s.reasmTimer = s.timers.NewTimer(s.onReassemblyTimer)
	s.localTimer = s.timers.NewTimer(func() {}) // RunTimers' Flush does the work
	return s
}

// MAC returns the stack's link address.
func (s *Stack) MAC() ethernet.Address { return s.cfg.MAC }

// MTU returns the link MTU.
func (s *Stack) MTU() int { return s.mtu }

// TTL returns the time to live of the datagrams the stack sends.
func (s *Stack) TTL() uint8 { return s.cfg.TTL }

// Now returns the stack's current time.
func (s *Stack) Now() time.Duration { return s.clk.Now() }

// Timers returns the stack's timer queue, for protocols built on top of
// the stack (DHCP, DNS) that need timers on the same loop.
func (s *Stack) Timers() *clock.Queue { return &s.timers }

// Rand returns the stack's random source, keyed with its secret (see
// Config.Rand).
func (s *Stack) Rand() *rand.Rand { return s.rnd }

// Stats returns a copy of the counters.
func (s *Stack) Stats() Stats { return s.stats }

// SetAddress configures the interface address and prefix, and announces
// it with a gratuitous ARP (RFC 5227 section 3). An invalid prefix
// removes the address.
func (s *Stack) SetAddress(p netip.Prefix) error {
	if p.IsValid() && !p.Addr().Is4() {
		return errors.New("stack: only IPv4 addresses are supported")
	}
	s.addr = p
	if p.IsValid() {
		s.announce()
	}
	return nil
}

// Address returns the configured prefix, invalid if none.
func (s *Stack) Address() netip.Prefix { return s.addr }

// SetGateway sets the default router; the zero Addr removes it.
func (s *Stack) SetGateway(a netip.Addr) { s.gateway = a }

// Gateway returns the default router.
func (s *Stack) Gateway() netip.Addr { return s.gateway }

// HandleFrame processes one frame from the link. The stack does not keep
// frame after it returns.
func (s *Stack) HandleFrame(frame []byte) {
	s.handleFrame(frame)
	s.Flush()
}

// RunTimers fires every timer that is due.
func (s *Stack) RunTimers() {
	s.timers.Run(s.clk.Now())
	s.Flush()
}

// NextTimer returns the earliest timer deadline.
func (s *Stack) NextTimer() (time.Duration, bool) { return s.timers.Next() }

// Flush delivers datagrams the stack sent to itself (loopback.go) and
// pending readiness notifications. The stack calls it after frames and
// timers; whoever calls socket methods directly calls it after them (the
// Loop does).
func (s *Stack) Flush() {
	budget := localBudget
	for {
		blocked := s.runLocal(&budget)
		if len(s.notify) == 0 && (blocked || len(s.local) == 0) {
			return
		}
		list := s.notify
		s.notify = nil
		for _, so := range list {
			so.Deliver(so.Events())
		}
	}
}

// changed queues a readiness notification for so.
func (s *Stack) changed(so socket.Socket) {
	if so.MarkPending() {
		s.notify = append(s.notify, so)
	}
}

func (s *Stack) handleFrame(frame []byte) {
	s.stats.Link.FramesIn++
	s.stats.Link.BytesIn += uint64(len(frame))
	eh, payload, err := ethernet.Parse(frame)
	if err != nil {
		s.stats.Ethernet.Malformed++
		return
	}
	if eh.Dst != s.cfg.MAC && !eh.Dst.IsMulticast() {
		s.stats.Ethernet.NotForUs++
		return
	}
	switch eh.Type {
	case ethernet.TypeARP:
		s.handleARP(payload)
	case ethernet.TypeIPv4:
		s.handleIPv4(payload, false)
	default:
		s.stats.Ethernet.UnknownType++
	}
}

// writeFrame fills in the Ethernet header at the start of frame and sends
// it, padded to the minimum frame size.
func (s *Stack) writeFrame(frame []byte, dst ethernet.Address, typ uint16) {
	ethernet.Header{Dst: dst, Src: s.cfg.MAC, Type: typ}.Encode(frame)
	frame = ethernet.PadTo(frame)
	s.stats.Link.FramesOut++
	s.stats.Link.BytesOut += uint64(len(frame))
	if err := s.link.WriteFrame(frame); err != nil {
		s.stats.Link.WriteErrors++
	}
}
