package tcp

// ring is a fixed-capacity circular byte buffer. The send buffer uses it
// directly; the receive buffer adds out-of-order bookkeeping on top.
type ring struct {
	buf  []byte
	head int // index of the first byte
	n    int // bytes held from head
}

func newRing(size int) ring { return ring{buf: make([]byte, size)} }

func (r *ring) Len() int  { return r.n }
func (r *ring) Cap() int  { return len(r.buf) }
func (r *ring) Free() int { return len(r.buf) - r.n }

// writeAt copies p to the position off bytes past the head, wrapping; the
// caller guarantees off+len(p) <= Cap.
func (r *ring) writeAt(off int, p []byte) {
	if len(p) == 0 {
		return // (a released buffer has no room: releaseBuffers)
	}
	pos := (r.head + off) % len(r.buf)
	c := copy(r.buf[pos:], p)
	copy(r.buf, p[c:])
}

// Append adds as much of p as fits and returns how much that was.
func (r *ring) Append(p []byte) int {
	k := min(len(p), r.Free())
	r.writeAt(r.n, p[:k])
	r.n += k
	return k
}

// Peek returns the n bytes starting off bytes past the head as at most two
// slices that alias the buffer.
func (r *ring) Peek(off, n int) ([]byte, []byte) {
	if n == 0 {
		return nil, nil
	}
	pos := (r.head + off) % len(r.buf)
	if pos+n <= len(r.buf) {
		return r.buf[pos : pos+n], nil
	}
	return r.buf[pos:], r.buf[:n-(len(r.buf)-pos)]
}

// Discard drops n bytes from the head.
func (r *ring) Discard(n int) {
	if n == 0 {
		return
	}
	r.head = (r.head + n) % len(r.buf)
	r.n -= n
	// The head stays where it is even when empty: the receive buffer keeps
	// out-of-order data at positions relative to it.
}

// Read moves up to len(p) bytes from the head into p.
func (r *ring) Read(p []byte) int {
	k := min(len(p), r.n)
	a, b := r.Peek(0, k)
	copy(p[copy(p, a):], b)
	r.Discard(k)
	return k
}

// span is a range [start, end) of bytes past the readable data.
type span struct{ start, end int }

// recvBuffer holds data that arrived in order and is waiting for the
// application, followed (in the same ring, in the free space that the
// advertised window covers) by data that arrived out of order. spans
// lists the out-of-order ranges, sorted and disjoint, as offsets from the
// end of the in-order data.
type recvBuffer struct {
	ring
	spans []span
}

func newRecvBuffer(size int) recvBuffer { return recvBuffer{ring: newRing(size)} }

// Insert stores data that starts off bytes after the in-order data
// (off 0 is RCV.NXT). Bytes past the buffer's free space are dropped. It
// returns how far the in-order data advanced (how far RCV.NXT moves).
func (b *recvBuffer) Insert(off int, data []byte) int {
	end := min(off+len(data), b.Free())
	if end <= off {
		return 0
	}
	b.writeAt(b.n+off, data[:end-off])
	b.addSpan(span{off, end})
	if b.spans[0].start != 0 {
		return 0
	}
	adv := b.spans[0].end
	b.n += adv
	b.spans = b.spans[1:]
	for i := range b.spans {
		b.spans[i].start -= adv
		b.spans[i].end -= adv
	}
	if len(b.spans) == 0 {
		b.spans = nil
	}
	return adv
}

// addSpan merges s into the sorted list.
func (b *recvBuffer) addSpan(s span) {
	out := b.spans[:0:0]
	placed := false
	for _, t := range b.spans {
		switch {
		case t.end < s.start:
			out = append(out, t)
		case s.end < t.start:
			if !placed {
				out = append(out, s)
				placed = true
			}
			out = append(out, t)
		default:
			s.start, s.end = min(s.start, t.start), max(s.end, t.end)
		}
	}
	if !placed {
		out = append(out, s)
	}
	b.spans = out
}

// OutOfOrder reports whether data is waiting beyond a gap.
func (b *recvBuffer) OutOfOrder() bool { return len(b.spans) > 0 }
