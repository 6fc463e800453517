package ipv4

import (
	"errors"
	"sort"
	"time"
)

// ReassemblyConfig bounds a Reassembler. Zero fields take defaults.
type ReassemblyConfig struct {
	MaxDatagrams int           // incomplete datagrams held at once (default 64)
	MaxBytes     int           // payload bytes held at once (default 1 MiB)
	Timeout      time.Duration // lifetime of an incomplete datagram (default 30 s)
}

type fragKey struct {
	src, dst [4]byte
	proto    uint8
	id       uint16
}

type fragment struct {
	off  int
	data []byte
}

type datagram struct {
	frags    []fragment // sorted by offset, never overlapping
	end      int        // total payload length once the last fragment is seen, else -1
	bytes    int
	deadline time.Duration
	first    Header // header of the offset-0 fragment, once seen
	hasFirst bool
}

// Reassembler rebuilds datagrams from fragments. It is owned by the stack's
// event loop and is not safe for concurrent use.
type Reassembler struct {
	cfg   ReassemblyConfig
	dgs   map[fragKey]*datagram
	bytes int
}

// Errors from Add. Each one means the fragment (and, for ErrOverlap and
// ErrTooBig, its whole datagram) was dropped.
var (
	ErrOverlap   = errors.New("ipv4: overlapping fragment")
	ErrTooBig    = errors.New("ipv4: reassembled datagram too large")
	ErrNoRoom    = errors.New("ipv4: reassembly limits reached")
	ErrFragShape = errors.New("ipv4: malformed fragment")
)

// NewReassembler returns an empty reassembler.
func NewReassembler(cfg ReassemblyConfig) *Reassembler {
	if cfg.MaxDatagrams <= 0 {
		cfg.MaxDatagrams = 64
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 1 << 20
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	return &Reassembler{cfg: cfg, dgs: make(map[fragKey]*datagram)}
}

// Pending returns the number of incomplete datagrams held.
func (r *Reassembler) Pending() int { return len(r.dgs) }

// Add offers one fragment. When it completes its datagram, Add returns the
// header of the first fragment (with fragment fields cleared and TotalLen
// set for the whole datagram) and the reassembled payload; otherwise
// done is false. The payload is copied; the caller may reuse it.
func (r *Reassembler) Add(h Header, payload []byte, now time.Duration) (Header, []byte, bool, error) {
	// Every fragment but the last carries a multiple of 8 bytes (RFC 791
	// section 3.2, "Fragmentation and reassembly").
	if (h.MoreFrags && (len(payload) == 0 || len(payload)%8 != 0)) || h.FragOffset+len(payload) > MaxDatagram-HeaderLen {
		return Header{}, nil, false, ErrFragShape
	}
	key := fragKey{h.Src, h.Dst, h.Protocol, h.ID}
	d := r.dgs[key]
	if d == nil {
		if len(r.dgs) >= r.cfg.MaxDatagrams {
			return Header{}, nil, false, ErrNoRoom
		}
		d = &datagram{end: -1, deadline: now + r.cfg.Timeout}
		r.dgs[key] = d
	}
	if r.bytes+len(payload) > r.cfg.MaxBytes {
		return Header{}, nil, false, ErrNoRoom
	}
	end := h.FragOffset + len(payload)
	if !h.MoreFrags {
		if d.end >= 0 && d.end != end {
			r.drop(key, d)
			return Header{}, nil, false, ErrFragShape
		}
		d.end = end
	}
	if d.end >= 0 && end > d.end {
		r.drop(key, d)
		return Header{}, nil, false, ErrFragShape
	}
	i := sort.Search(len(d.frags), func(i int) bool { return d.frags[i].off >= h.FragOffset })
	if (i > 0 && d.frags[i-1].off+len(d.frags[i-1].data) > h.FragOffset) ||
		(i < len(d.frags) && d.frags[i].off < end) {
		r.drop(key, d)
		return Header{}, nil, false, ErrOverlap
	}
	d.frags = append(d.frags, fragment{})
	copy(d.frags[i+1:], d.frags[i:])
	d.frags[i] = fragment{off: h.FragOffset, data: append([]byte(nil), payload...)}
	d.bytes += len(payload)
	r.bytes += len(payload)
	if h.FragOffset == 0 {
		// Options alias the caller's packet, which it may reuse: keep
		// a copy, as the payload is copied.
		h.Options = append([]byte(nil), h.Options...)
		d.first, d.hasFirst = h, true
	}
	if d.end < 0 || !d.hasFirst || !d.contiguous() {
		return Header{}, nil, false, nil
	}
	out := make([]byte, 0, d.end)
	for _, f := range d.frags {
		out = append(out, f.data...)
	}
	r.drop(key, d)
	first := d.first
	first.MoreFrags, first.FragOffset = false, 0
	first.TotalLen = first.Len() + len(out)
	if first.TotalLen > MaxDatagram {
		return Header{}, nil, false, ErrTooBig
	}
	return first, out, true, nil
}

func (d *datagram) contiguous() bool {
	next := 0
	for _, f := range d.frags {
		if f.off != next {
			return false
		}
		next += len(f.data)
	}
	return next == d.end
}

func (r *Reassembler) drop(key fragKey, d *datagram) {
	r.bytes -= d.bytes
	delete(r.dgs, key)
}

// Expire discards datagrams whose timer ran out and returns how many.
func (r *Reassembler) Expire(now time.Duration) int {
	n := 0
	for k, d := range r.dgs {
		if now >= d.deadline {
			r.drop(k, d)
			n++
		}
	}
	return n
}

// NextDeadline returns when Expire next has work.
func (r *Reassembler) NextDeadline() (time.Duration, bool) {
	var next time.Duration
	found := false
	for _, d := range r.dgs {
		if !found || d.deadline < next {
			next, found = d.deadline, true
		}
	}
	return next, found
}
