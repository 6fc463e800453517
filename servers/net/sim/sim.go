package sim

import (
	"fmt"
	"net/netip"
	"time"

	"valence.dev/servers/net/clock"
	"valence.dev/servers/net/ethernet"
	"valence.dev/servers/net/link"
	"valence.dev/servers/net/stack"
)

// Network is two stacks, A and B, on one wire.
type Network struct {
	Clock *clock.Fake
	Wire  *link.Wire
	A, B  *stack.Stack
}

// Addresses used by New.
var (
	AddrA = netip.MustParseAddr("10.0.0.1")
	AddrB = netip.MustParseAddr("10.0.0.2")
	MACA  = ethernet.Address{2, 0, 0, 0, 0, 1}
	MACB  = ethernet.Address{2, 0, 0, 0, 0, 2}
)

// Options configures New.
type Options struct {
	Faults link.Faults
	Seed   int64        // the wire's faults and each stack's Rand (stack.SeededRand) derive from it
	MTU    int          // default 1500
	Config stack.Config // template for both stacks (MAC, clock, Rand are set)
}

// New builds the network: A is 10.0.0.1/24, B is 10.0.0.2/24.
func New(o Options) *Network {
	if o.MTU == 0 {
		o.MTU = 1500
	}
	clk := &clock.Fake{}
	w := link.NewWire(clk, o.MTU, o.Faults, o.Seed)
	mk := func(mac ethernet.Address, seed int64, port *link.Port, addr netip.Addr) *stack.Stack {
		cfg := o.Config
		cfg.MAC, cfg.Clock, cfg.Rand = mac, clk, stack.SeededRand(seed)
		s := stack.New(cfg, port)
		port.SetReceiver(s.HandleFrame)
		s.SetAddress(netip.PrefixFrom(addr, 24))
		return s
	}
	n := &Network{Clock: clk, Wire: w}
	n.A = mk(MACA, o.Seed*2+1, w.A(), AddrA)
	n.B = mk(MACB, o.Seed*2+2, w.B(), AddrB)
	return n
}

// Step runs the earliest pending event and reports whether there was one.
func (n *Network) Step() bool {
	next, ok := n.next()
	if !ok {
		return false
	}
	n.Clock.Set(next)
	n.Wire.Deliver(next)
	n.A.RunTimers()
	n.B.RunTimers()
	return true
}

func (n *Network) next() (time.Duration, bool) {
	var best time.Duration
	found := false
	consider := func(t time.Duration, ok bool) {
		if ok && (!found || t < best) {
			best, found = t, true
		}
	}
	consider(n.Wire.Next())
	consider(n.A.NextTimer())
	consider(n.B.NextTimer())
	return best, found
}

// RunUntil steps until cond holds, and reports whether it did before
// limit of simulated time passed.
func (n *Network) RunUntil(cond func() bool, limit time.Duration) bool {
	deadline := n.Clock.Now() + limit
	for !cond() {
		next, ok := n.next()
		if !ok || next > deadline {
			n.Clock.Set(deadline)
			return cond()
		}
		n.Step()
	}
	return true
}

// RunFor runs every event in the next d of simulated time.
func (n *Network) RunFor(d time.Duration) {
	deadline := n.Clock.Now() + d
	for {
		next, ok := n.next()
		if !ok || next > deadline {
			break
		}
		n.Step()
	}
	n.Clock.Set(deadline)
}

// Flush delivers notifications in both stacks; tests call it after socket
// calls they make from outside a callback.
func (n *Network) Flush() {
	n.A.Flush()
	n.B.Flush()
}

// String summarizes the network for test failures.
func (n *Network) String() string {
	return fmt.Sprintf("t=%v wire A->B %+v B->A %+v", n.Clock.Now(), n.Wire.A().Stats, n.Wire.B().Stats)
}

// AddrPortB returns B's address with port p.
func AddrPortB(p uint16) netip.AddrPort { return netip.AddrPortFrom(AddrB, p) }
