package link

import (
	"container/heap"
	"math/rand"
	"time"

	"valence.dev/servers/net/clock"
)

// Faults describes how a wire misbehaves. Probabilities are in [0, 1].
type Faults struct {
	Loss      float64       // a frame vanishes
	Duplicate float64       // a frame arrives twice
	Reorder   float64       // a frame is held back by up to ReorderDelay
	Delay     time.Duration // fixed one-way latency
	Jitter    time.Duration // extra latency, uniform in [0, Jitter)

	// ReorderDelay bounds the hold-back of reordered frames (default 5 ms).
	ReorderDelay time.Duration

	// Rate, when nonzero, is the link speed in bytes per second; frames
	// queue behind each other, and at most QueueLimit (default 64) may
	// wait, the rest being dropped.
	Rate       int
	QueueLimit int
}

// Stats counts what a wire did to the frames written into one port.
type Stats struct {
	Sent, Delivered, Lost, Duplicated, Reordered, QueueDrops int
}

// Port is one end of a Wire.
type Port struct {
	w         *Wire
	peer      *Port
	mtu       int
	recv      func([]byte)
	busyUntil time.Duration // when the link from this port is free (Rate)
	queued    int
	Stats     Stats
	// Drop, if set, is asked about every frame this port sends; returning
	// true loses it. It runs before the random faults.
	Drop func(frame []byte) bool
}

type inflight struct {
	at    time.Duration
	seq   uint64
	to    *Port
	from  *Port
	frame []byte
	queue bool // counted in from.queued
}

// Wire is an in-memory cable between two ports.
type Wire struct {
	clk    clock.Clock
	rnd    *rand.Rand
	faults Faults
	a, b   *Port
	q      flightHeap
	seq    uint64
}

// NewWire returns a wire whose ports have the given MTU. Random faults draw
// from a source seeded with seed.
func NewWire(clk clock.Clock, mtu int, faults Faults, seed int64) *Wire {
	if faults.ReorderDelay <= 0 {
		faults.ReorderDelay = 5 * time.Millisecond
	}
	if faults.QueueLimit <= 0 {
		faults.QueueLimit = 64
	}
	w := &Wire{clk: clk, rnd: rand.New(rand.NewSource(seed)), faults: faults}
	w.a = &Port{w: w, mtu: mtu}
	w.b = &Port{w: w, mtu: mtu}
	w.a.peer, w.b.peer = w.b, w.a
	return w
}

// A and B return the two ports.
func (w *Wire) A() *Port { return w.a }

// B returns the second port.
func (w *Wire) B() *Port { return w.b }

// SetFaults changes the faults for frames written from now on.
func (w *Wire) SetFaults(f Faults) {
	if f.ReorderDelay <= 0 {
		f.ReorderDelay = 5 * time.Millisecond
	}
	if f.QueueLimit <= 0 {
		f.QueueLimit = 64
	}
	w.faults = f
}

// SetReceiver sets the function that frames arriving at p are given to.
// The frame belongs to the receiver.
func (p *Port) SetReceiver(fn func(frame []byte)) { p.recv = fn }

// MTU implements Endpoint.
func (p *Port) MTU() int { return p.mtu }

// WriteFrame implements Endpoint: it copies frame onto the wire.
func (p *Port) WriteFrame(frame []byte) error {
	w := p.w
	f := &w.faults
	p.Stats.Sent++
	if p.Drop != nil && p.Drop(frame) {
		p.Stats.Lost++
		return nil
	}
	if f.Loss > 0 && w.rnd.Float64() < f.Loss {
		p.Stats.Lost++
		return nil
	}
	now := w.clk.Now()
	at := now
	queue := false
	if f.Rate > 0 {
		if p.queued >= f.QueueLimit {
			p.Stats.QueueDrops++
			return nil
		}
		start := max(now, p.busyUntil)
		p.busyUntil = start + time.Duration(int64(len(frame))*int64(time.Second)/int64(f.Rate))
		at = p.busyUntil
		queue = true
	}
	at += f.Delay
	if f.Jitter > 0 {
		at += time.Duration(w.rnd.Int63n(int64(f.Jitter)))
	}
	copies := 1
	if f.Duplicate > 0 && w.rnd.Float64() < f.Duplicate {
		copies = 2
		p.Stats.Duplicated++
	}
	for i := 0; i < copies; i++ {
		t := at
		if f.Reorder > 0 && w.rnd.Float64() < f.Reorder {
			t += time.Duration(1 + w.rnd.Int63n(int64(f.ReorderDelay)))
			p.Stats.Reordered++
		}
		w.seq++
		fl := &inflight{at: t, seq: w.seq, to: p.peer, from: p, frame: append([]byte(nil), frame...), queue: queue && i == 0}
		if fl.queue {
			p.queued++
		}
		heap.Push(&w.q, fl)
	}
	return nil
}

// Next returns when the next frame arrives, or false if none is in flight.
func (w *Wire) Next() (time.Duration, bool) {
	if len(w.q) == 0 {
		return 0, false
	}
	return w.q[0].at, true
}

// InFlight returns the number of frames on the wire.
func (w *Wire) InFlight() int { return len(w.q) }

// Deliver hands every frame due at or before now to its receiver and
// returns how many it delivered.
func (w *Wire) Deliver(now time.Duration) int {
	n := 0
	for len(w.q) > 0 && w.q[0].at <= now {
		fl := heap.Pop(&w.q).(*inflight)
		if fl.queue {
			fl.from.queued--
		}
		fl.from.Stats.Delivered++
		if fl.to.recv != nil {
			fl.to.recv(fl.frame)
		}
		n++
	}
	return n
}

type flightHeap []*inflight

func (h flightHeap) Len() int { return len(h) }
func (h flightHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h flightHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *flightHeap) Push(x any)   { *h = append(*h, x.(*inflight)) }
func (h *flightHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return x
}
