package dns

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"valence.dev/servers/net/clock"
	"valence.dev/servers/net/socket"
	"valence.dev/servers/net/stack"
)

// Errors reported by Lookup.
var (
	ErrNotFound  = errors.New("dns: no such host")
	ErrTimeout   = errors.New("dns: no answer from any server")
	ErrServer    = errors.New("dns: server failure")
	ErrTruncated = errors.New("dns: truncated response (no TCP fallback)")
	ErrNoServers = errors.New("dns: no servers configured")
)

// Config tunes a Resolver. Zero fields take defaults.
type Config struct {
	Timeout     time.Duration // per attempt (default 2 s)
	Attempts    int           // rounds over the server list (default 2)
	NegativeTTL time.Duration // cache time for NXDOMAIN without SOA (default 30 s)
	MaxCache    int           // cached names (default 256)
}

type cacheEntry struct {
	addrs   []netip.Addr
	err     error
	expires time.Duration
}

// Resolver resolves names to IPv4 addresses. Its methods run on the stack's
// event loop.
type Resolver struct {
	s       *stack.Stack
	cfg     Config
	servers []netip.Addr
	cache   map[string]cacheEntry
}

// NewResolver returns a resolver that asks servers (port 53) in order.
func NewResolver(s *stack.Stack, servers []netip.Addr, cfg Config) *Resolver {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 2
	}
	if cfg.NegativeTTL <= 0 {
		cfg.NegativeTTL = 30 * time.Second
	}
	if cfg.MaxCache <= 0 {
		cfg.MaxCache = 256
	}
	return &Resolver{s: s, cfg: cfg, servers: servers, cache: make(map[string]cacheEntry)}
}

// SetServers replaces the server list (after a DHCP lease, say).
func (r *Resolver) SetServers(servers []netip.Addr) { r.servers = servers }

// query is one lookup in flight.
type query struct {
	r     *Resolver
	name  string
	cb    func([]netip.Addr, error)
	sock  *stack.UDPSocket
	id    uint16
	try   int
	timer *clock.Timer
	buf   []byte
	done  bool
}

// Lookup resolves name and calls cb on the event loop with its IPv4
// addresses. A literal address is returned as is.
func (r *Resolver) Lookup(name string, cb func([]netip.Addr, error)) {
	if a, err := netip.ParseAddr(name); err == nil {
		cb([]netip.Addr{a}, nil)
		return
	}
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	now := r.s.Now()
	if e, ok := r.cache[name]; ok && now < e.expires {
		cb(e.addrs, e.err)
		return
	}
	if len(r.servers) == 0 {
		cb(nil, ErrNoServers)
		return
	}
	if _, err := appendName(nil, name); err != nil || name == "" {
		cb(nil, fmt.Errorf("dns: bad name %q: %w", name, ErrName))
		return
	}
	q := &query{r: r, name: name, cb: cb, buf: make([]byte, 1500)}
	q.timer = r.s.Timers().NewTimer(q.send)
	q.send()
}

// send transmits the next attempt from a new port with a new ID, or gives
// up.
func (q *query) send() {
	r := q.r
	if q.done {
		return
	}
	if q.try >= r.cfg.Attempts*len(r.servers) {
		q.finish(nil, ErrTimeout, 0)
		return
	}
	server := r.servers[q.try%len(r.servers)]
	q.try++
	if q.sock != nil {
		q.sock.Close()
	}
	sock, err := r.s.ListenUDP(0)
	if err != nil {
		q.finish(nil, err, 0)
		return
	}
	q.sock = sock
	q.id = uint16(r.s.Rand().Uint32())
	remote := netip.AddrPortFrom(server, 53)
	sock.Connect(remote)
	sock.SetNotify(func(socket.Events) { q.receive() })
	msg := Message{ID: q.id, RecursionDesired: true, Questions: []Question{{Name: q.name, Type: TypeA, Class: ClassIN}}}
	b, _ := msg.Marshal()
	sock.Send(b)
	q.timer.Set(r.s.Now() + r.cfg.Timeout)
}

func (q *query) receive() {
	for !q.done {
		n, _, err := q.sock.RecvFrom(q.buf)
		if errors.Is(err, socket.ErrWouldBlock) || errors.Is(err, socket.ErrClosed) {
			return
		}
		if err != nil {
			q.send() // ICMP unreachable: try the next server now
			return
		}
		m, err := Parse(q.buf[:n])
		if err != nil || !m.Response || m.ID != q.id || len(m.Questions) != 1 ||
			m.Questions[0].Name != q.name || m.Questions[0].Type != TypeA {
			continue // not the answer to our question: ignore
		}
		q.answer(m)
	}
}

// answer interprets a matching response.
func (q *query) answer(m *Message) {
	switch {
	case m.Truncated:
		q.finish(nil, ErrTruncated, 0)
		return
	case m.Rcode == RcodeNXDomain:
		ttl := q.r.cfg.NegativeTTL
		for _, a := range m.Authority {
			if a.Type == TypeSOA {
				ttl = time.Duration(min(a.TTL, a.MinTTL)) * time.Second
			}
		}
		q.finish(nil, ErrNotFound, ttl)
		return
	case m.Rcode != RcodeSuccess:
		q.send() // SERVFAIL, REFUSED...: ask the next server
		return
	}
	// Follow CNAMEs from the name asked for.
	name, ttl := q.name, uint32(1<<31)
	var addrs []netip.Addr
	for hops := 0; hops < 8; hops++ {
		next := ""
		for _, rr := range m.Answers {
			if rr.Name != name || rr.Class != ClassIN {
				continue
			}
			switch {
			case rr.Type == TypeA && len(rr.Data) == 4:
				addrs = append(addrs, netip.AddrFrom4([4]byte(rr.Data)))
				ttl = min(ttl, rr.TTL)
			case rr.Type == TypeCNAME:
				next = rr.Target
				ttl = min(ttl, rr.TTL)
			}
		}
		if len(addrs) > 0 || next == "" {
			break
		}
		name = next
	}
	if len(addrs) == 0 {
		q.finish(nil, ErrNotFound, q.r.cfg.NegativeTTL)
		return
	}
	q.finish(addrs, nil, time.Duration(ttl)*time.Second)
}

func (q *query) finish(addrs []netip.Addr, err error, ttl time.Duration) {
	q.done = true
	q.timer.Stop()
	if q.sock != nil {
		q.sock.Close()
	}
	r := q.r
	if ttl > 0 && (err == nil || errors.Is(err, ErrNotFound)) {
		if len(r.cache) >= r.cfg.MaxCache {
			now := r.s.Now()
			for k, e := range r.cache {
				if now >= e.expires {
					delete(r.cache, k)
				}
			}
		}
		if len(r.cache) < r.cfg.MaxCache {
			r.cache[q.name] = cacheEntry{addrs: addrs, err: err, expires: r.s.Now() + ttl}
		}
	}
	q.cb(addrs, err)
}

// LookupSync resolves name from a goroutine outside the loop.
func LookupSync(loop *stack.Loop, r *Resolver, name string) ([]netip.Addr, error) {
	type result struct {
		addrs []netip.Addr
		err   error
	}
	ch := make(chan result, 1)
	if err := loop.Do(func(*stack.Stack) {
		r.Lookup(name, func(a []netip.Addr, err error) { ch <- result{a, err} })
	}); err != nil {
		return nil, err
	}
	select {
	case res := <-ch:
		return res.addrs, res.err
	case <-loop.Done():
		return nil, stack.ErrLoopStopped
	}
}
