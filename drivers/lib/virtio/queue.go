package virtio

import (
	"encoding/binary"
	"fmt"
	"sync"

	"valence.dev/drivers/lib/dev"
	"valence.dev/drivers/lib/virtio/internal/ringmem"
)

// Descriptor flags (§2.7.5).
const (
	descNext     = 1
	descWrite    = 2
	descIndirect = 4 // never set: VIRTIO_F_INDIRECT_DESC is not negotiated
)

// usedNoNotify is the used ring's VIRTQ_USED_F_NO_NOTIFY (§2.7.10).
const usedNoNotify = 1

// MaxQueueSize is the largest split virtqueue (§2.6).
const MaxQueueSize = 32768

// Split virtqueue parts (§2.7): sizes and the alignment the spec asks of
// each (16 for the descriptor table, 2 for the available ring, 4 for the
// used ring).
const (
	descSize     = 16
	availHeader  = 4 // flags, idx
	usedHeader   = 4 // flags, idx
	usedElemSize = 8 // le32 id, le32 len
)

// ringLayout returns the offsets of the three parts of a queue of size n
// laid out in one allocation, and its total size. The available ring
// follows the descriptor table (a multiple of 16, so 4-aligned, as the
// atomic access to its idx word needs); the used ring is 4-aligned.
func ringLayout(n uint64) (avail, used, total uint64) {
	avail = descSize * n
	availLen := availHeader + 2*n + 2 // ring, used_event
	used = (avail + availLen + 3) &^ 3
	usedLen := usedHeader + usedElemSize*n + 2 // ring, avail_event
	return avail, used, used + usedLen
}

// Segment is one element of a buffer chain: Len bytes of DMA memory at
// bus address Addr, which the device reads or (Write) writes.
type Segment struct {
	Addr  uint64
	Len   uint32
	Write bool
}

// Queue is one split virtqueue (§2.7) in DMA memory. Its methods are safe
// for concurrent use.
//
// The driver's view of what is in flight is kept here, in Go memory, never
// read back from the descriptor table: the device can write that memory
// too, so trusting it would let a device forge chains. Invariants, under
// mu: every descriptor index is either on free or in exactly one chain of
// chains[head]; inFlight counts the chains; nextAvail-lastUsed (mod 2^16)
// equals inFlight; a used element is accepted only if its id is the head
// of a chain in flight and its len at most that chain's writable bytes.
type Queue struct {
	index  uint16
	size   uint16
	dma    dev.DMA
	notify func() // writes the queue's notify register

	mu        sync.Mutex
	mem       *dev.Buffer // nil after release
	desc      []byte
	avail     []byte
	used      []byte
	free      []uint16 // stack of free descriptor indices
	chains    []chain  // by head descriptor
	nextAvail uint16   // the avail idx last published
	lastUsed  uint16   // the used idx up to which entries were harvested
	inFlight  int
	err       error // once set, the queue is unusable: the device misbehaved, or was reset
}

type chain struct {
	descs    []uint16 // head first; nil when not in flight
	writable uint64   // bytes the device may write
	token    any
}

// newQueue lays out a queue of size n (a power of two) in mem.
func newQueue(index, n uint16, dma dev.DMA, mem *dev.Buffer, notify func()) *Queue {
	availOff, usedOff, total := ringLayout(uint64(n))
	b := mem.Bytes[:total]
	clear(b)
	q := &Queue{
		index: index, size: n, dma: dma, notify: notify, mem: mem,
		desc:   b[:availOff],
		avail:  b[availOff:usedOff],
		used:   b[usedOff:],
		free:   make([]uint16, n),
		chains: make([]chain, n),
	}
	for i := range q.free {
		q.free[i] = n - 1 - uint16(i) // so that descriptor 0 is used first
	}
	return q
}

// Index returns the queue's index in the device.
func (q *Queue) Index() uint16 { return q.index }

// Size returns the number of descriptors.
func (q *Queue) Size() uint16 { return q.size }

// Free returns the number of free descriptors.
func (q *Queue) Free() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.free)
}

// InFlight returns the number of buffer chains the device has not yet
// returned.
func (q *Queue) InFlight() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.inFlight
}

// Err returns why the queue stopped, or nil.
func (q *Queue) Err() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.err
}

// Add makes a buffer chain available to the device (§2.7.13): segments
// the device reads first, then those it writes (§2.7.4.2). token is
// handed back by Harvest when the device has used the chain. It returns
// ErrQueueFull if there are not len(segs) free descriptors. The device is
// not notified; call Kick after adding a batch.
func (q *Queue) Add(segs []Segment, token any) error {
	if len(segs) == 0 {
		return fmt.Errorf("virtio: queue %d: empty buffer chain", q.index)
	}
	var writable uint64
	for i, s := range segs {
		if s.Len == 0 {
			return fmt.Errorf("virtio: queue %d: segment %d is empty", q.index, i)
		}
		if i > 0 && segs[i-1].Write && !s.Write {
			return fmt.Errorf("virtio: queue %d: segment %d is device-readable after a device-writable one (§2.7.4.2)", q.index, i)
		}
		if s.Write {
			writable += uint64(s.Len)
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	if len(segs) > len(q.free) {
		if len(segs) > int(q.size) {
			return fmt.Errorf("virtio: queue %d: chain of %d segments exceeds the queue size %d", q.index, len(segs), q.size)
		}
		return fmt.Errorf("virtio: queue %d: %d descriptors wanted, %d free: %w", q.index, len(segs), len(q.free), ErrQueueFull)
	}
	descs := make([]uint16, len(segs))
	for i := range descs {
		descs[i] = q.free[len(q.free)-1-i]
	}
	q.free = q.free[:len(q.free)-len(segs)]
	// §2.7.13.1: place the chain in the descriptor table.
	for i, s := range segs {
		var flags, next uint16
		if i+1 < len(segs) {
			flags, next = descNext, descs[i+1]
		}
		if s.Write {
			flags |= descWrite
		}
		d := q.desc[descSize*int(descs[i]):]
		binary.LittleEndian.PutUint64(d[0:], s.Addr)
		binary.LittleEndian.PutUint32(d[8:], s.Len)
		binary.LittleEndian.PutUint16(d[12:], flags)
		binary.LittleEndian.PutUint16(d[14:], next)
	}
	head := descs[0]
	q.chains[head] = chain{descs: descs, writable: writable, token: token}
	// §2.7.13.2: put the head in the available ring; §2.7.13.3: publish
	// the new idx after it (Store32 is the barrier the spec asks for).
	// avail.flags stays 0: used buffer notifications are wanted.
	slot := availHeader + 2*int(q.nextAvail%q.size)
	binary.LittleEndian.PutUint16(q.avail[slot:], head)
	q.nextAvail++
	ringmem.Store32(q.avail, ringmem.Join(0, q.nextAvail))
	q.inFlight++
	return nil
}

// Kick notifies the device that buffers are available (§2.7.13.4,
// §4.1.5.2), unless the device has said it does not need notifications
// (VIRTQ_USED_F_NO_NOTIFY, §2.7.10).
//
// The notification is written with the queue's lock held, so that it
// cannot follow a reset of the device (which stops the queue first).
func (q *Queue) Kick() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return
	}
	if flags, _ := ringmem.Split(ringmem.Load32(q.used)); flags&usedNoNotify == 0 {
		q.notify()
	}
}

// Used is one buffer chain the device has returned.
type Used struct {
	Token   any    // as given to Add
	Written uint32 // bytes the device wrote into the chain's writable part
}

// Harvest collects the chains the device has used since the last call
// (§2.7.14), frees their descriptors and returns them in the device's
// order. A used ring the spec does not allow (an idx running ahead of what
// is in flight, an id out of range or not in flight, a len larger than the
// chain's writable bytes) stops the queue with an error wrapping
// ErrDevice; the entries before the bad one are still returned.
func (q *Queue) Harvest() ([]Used, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return nil, q.err
	}
	_, idx := ringmem.Split(ringmem.Load32(q.used))
	n := idx - q.lastUsed
	if int(n) > q.inFlight {
		return nil, q.fail("used idx %d is %d entries past %d, with only %d chains in flight", idx, n, q.lastUsed, q.inFlight)
	}
	var out []Used
	for ; n > 0; n-- {
		// Read the element once into locals: the device may rewrite it.
		e := q.used[usedHeader+usedElemSize*int(q.lastUsed%q.size):]
		id := binary.LittleEndian.Uint32(e[0:])
		written := binary.LittleEndian.Uint32(e[4:])
		if id >= uint32(q.size) {
			return out, q.fail("used id %d is out of range (queue size %d)", id, q.size)
		}
		c := &q.chains[id]
		if c.descs == nil {
			return out, q.fail("used id %d is not a chain in flight", id)
		}
		if uint64(written) > c.writable {
			return out, q.fail("used len %d for id %d exceeds the chain's %d writable bytes", written, id, c.writable)
		}
		out = append(out, Used{Token: c.token, Written: written})
		q.free = append(q.free, c.descs...)
		*c = chain{}
		q.inFlight--
		q.lastUsed++
	}
	return out, nil
}

// fail stops the queue with an error wrapping ErrDevice. q.mu is held.
func (q *Queue) fail(format string, args ...any) error {
	q.err = fmt.Errorf("virtio: queue %d: %s: %w", q.index, fmt.Sprintf(format, args...), ErrDevice)
	return q.err
}

// Drain returns the tokens of every chain still in flight and forgets
// them. It is for after the device has been reset (or the queue stopped
// by device misbehaviour and the device then reset), so that the driver
// can fail what was pending; before that the device may still use them.
func (q *Queue) Drain() []any {
	q.mu.Lock()
	defer q.mu.Unlock()
	var tokens []any
	for i := range q.chains {
		c := &q.chains[i]
		if c.descs != nil {
			tokens = append(tokens, c.token)
			q.free = append(q.free, c.descs...)
			*c = chain{}
		}
	}
	q.inFlight = 0
	q.lastUsed = q.nextAvail
	return tokens
}

// stop makes the queue refuse further use with err, unless it already
// failed.
func (q *Queue) stop(err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err == nil {
		q.err = err
	}
}

// release frees the ring memory; the device must no longer be using it.
func (q *Queue) release() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.mem != nil {
		q.dma.Free(q.mem)
		q.mem, q.desc, q.avail, q.used = nil, nil, nil, nil
	}
}
