package arp

import (
	"net/netip"
	"time"

	"valence.dev/servers/net/ethernet"
)

// Config bounds the cache. Zero fields take the defaults of DefaultConfig.
type Config struct {
	Lifetime      time.Duration // how long a resolved entry is trusted
	RetryInterval time.Duration // time between requests for an incomplete entry
	MaxRetries    int           // requests sent before giving up
	MaxPending    int           // packets queued per incomplete entry
	MaxEntries    int           // entries in the table
}

// DefaultConfig is what a stack uses unless told otherwise.
var DefaultConfig = Config{
	Lifetime:      60 * time.Second,
	RetryInterval: time.Second,
	MaxRetries:    3,
	MaxPending:    64,
	MaxEntries:    512,
}

func (c Config) withDefaults() Config {
	d := DefaultConfig
	if c.Lifetime > 0 {
		d.Lifetime = c.Lifetime
	}
	if c.RetryInterval > 0 {
		d.RetryInterval = c.RetryInterval
	}
	if c.MaxRetries > 0 {
		d.MaxRetries = c.MaxRetries
	}
	if c.MaxPending > 0 {
		d.MaxPending = c.MaxPending
	}
	if c.MaxEntries > 0 {
		d.MaxEntries = c.MaxEntries
	}
	return d
}

type entry struct {
	mac      ethernet.Address
	resolved bool
	deadline time.Duration // expiry (resolved) or next retry (incomplete)
	retries  int
	pending  [][]byte
}

// Cache is the neighbour table. It is not safe for concurrent use; the
// stack's event loop owns it.
type Cache struct {
	cfg     Config
	entries map[netip.Addr]*entry
}

// NewCache returns an empty cache.
func NewCache(cfg Config) *Cache {
	return &Cache{cfg: cfg.withDefaults(), entries: make(map[netip.Addr]*entry)}
}

// Len returns the number of entries, resolved or not.
func (c *Cache) Len() int { return len(c.entries) }

// Lookup returns the MAC address for ip if a live resolved entry exists.
func (c *Cache) Lookup(ip netip.Addr, now time.Duration) (ethernet.Address, bool) {
	e := c.entries[ip]
	if e == nil || !e.resolved || now >= e.deadline {
		return ethernet.Address{}, false
	}
	return e.mac, true
}

// Enqueue queues pkt (which the cache keeps; the caller must not reuse it)
// until ip is resolved. It reports whether the caller must send a request
// now (the entry is new) and how many queued packets were dropped to make
// room (the oldest go first) or because the table is full.
func (c *Cache) Enqueue(ip netip.Addr, pkt []byte, now time.Duration) (sendRequest bool, dropped int) {
	e := c.entries[ip]
	if e != nil && e.resolved && now >= e.deadline {
		delete(c.entries, ip)
		e = nil
	}
	if e == nil {
		if !c.makeRoom() {
			return false, 1
		}
		e = &entry{deadline: now + c.cfg.RetryInterval, retries: 1}
		c.entries[ip] = e
		sendRequest = true
	}
	if len(e.pending) >= c.cfg.MaxPending {
		e.pending = e.pending[1:]
		dropped++
	}
	e.pending = append(e.pending, pkt)
	return sendRequest, dropped
}

// makeRoom evicts the resolved entry closest to expiry when the table is
// full. It reports whether there is room for one more entry.
func (c *Cache) makeRoom() bool {
	if len(c.entries) < c.cfg.MaxEntries {
		return true
	}
	var victim netip.Addr
	var best time.Duration = -1
	for ip, e := range c.entries {
		if e.resolved && (best < 0 || e.deadline < best || (e.deadline == best && ip.Less(victim))) {
			victim, best = ip, e.deadline
		}
	}
	if best < 0 {
		return false
	}
	delete(c.entries, victim)
	return true
}

// Update merges a mapping learnt from an ARP packet (RFC 826, "Packet
// Reception"). An existing entry is refreshed; a new one is created only if
// create is set (the packet was addressed to us). It returns the packets
// that were waiting for this address; the caller now owns them.
func (c *Cache) Update(ip netip.Addr, mac ethernet.Address, create bool, now time.Duration) [][]byte {
	e := c.entries[ip]
	if e == nil {
		if !create || !c.makeRoom() {
			return nil
		}
		e = &entry{}
		c.entries[ip] = e
	}
	pending := e.pending
	*e = entry{mac: mac, resolved: true, deadline: now + c.cfg.Lifetime}
	return pending
}

// Failure is an address whose resolution gave up, with the packets that
// were waiting for it.
type Failure struct {
	IP      netip.Addr
	Pending [][]byte
}

// Expire walks the table at time now: it forgets expired entries, lists
// incomplete entries due for another request, and gives up on those that
// ran out of retries.
func (c *Cache) Expire(now time.Duration) (retry []netip.Addr, failed []Failure) {
	for ip, e := range c.entries {
		if now < e.deadline {
			continue
		}
		if e.resolved {
			delete(c.entries, ip)
			continue
		}
		if e.retries >= c.cfg.MaxRetries {
			failed = append(failed, Failure{IP: ip, Pending: e.pending})
			delete(c.entries, ip)
			continue
		}
		e.retries++
		e.deadline = now + c.cfg.RetryInterval
		retry = append(retry, ip)
	}
	sortAddrs(retry)
	return retry, failed
}

// NextDeadline returns the earliest time at which Expire has work, or false
// if the table is empty.
func (c *Cache) NextDeadline() (time.Duration, bool) {
	var next time.Duration
	found := false
	for _, e := range c.entries {
		if !found || e.deadline < next {
			next, found = e.deadline, true
		}
	}
	return next, found
}

// sortAddrs orders addresses so that map iteration order never leaks into
// what the stack sends (the deterministic tests depend on it).
func sortAddrs(a []netip.Addr) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j].Less(a[j-1]); j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}
