package blockdev

import (
	"fmt"
	"math/rand/v2"
)

// Op is one request a Recorder saw: a Flush, or the write of one block.
// Multi-block writes are logged a block at a time because a medium may
// lose or tear each block of them independently.
type Op struct {
	Flush bool
	Block uint64
	Data  []byte // BlockSize bytes; nil for a flush
}

// Recorder is a Device that passes every request to another device and
// logs every write and flush, so a test can later rebuild what a power
// cut at any point would have left (see Replay).
type Recorder struct {
	Device
	ops []Op
}

// NewRecorder records the requests made to dev from now on.
func NewRecorder(dev Device) *Recorder { return &Recorder{Device: dev} }

// WriteAt implements Device and logs the write.
func (r *Recorder) WriteAt(p []byte, block uint64) error {
	if err := r.Device.WriteAt(p, block); err != nil {
		return err
	}
	for i := 0; i < len(p); i += BlockSize {
		data := append([]byte(nil), p[i:i+BlockSize]...)
		r.ops = append(r.ops, Op{Block: block + uint64(i/BlockSize), Data: data})
	}
	return nil
}

// Flush implements Device and logs the flush.
func (r *Recorder) Flush() error {
	if err := r.Device.Flush(); err != nil {
		return err
	}
	r.ops = append(r.ops, Op{Flush: true})
	return nil
}

// Len is the number of operations logged so far: a position in the log.
func (r *Recorder) Len() int { return len(r.ops) }

// Ops returns the log. The caller must not modify it.
func (r *Recorder) Ops() []Op { return r.ops }

// Loss says what happens to the writes that were not yet flushed when
// the power was cut.
type Loss int

const (
	// LoseAll: none of them reached the medium.
	LoseAll Loss = iota
	// KeepAll: all of them did.
	KeepAll
	// LoseSome: each one independently reached the medium, was lost, or
	// was torn (a random subset of its sectors written).
	LoseSome
)

func (l Loss) String() string {
	switch l {
	case LoseAll:
		return "lose-all"
	case KeepAll:
		return "keep-all"
	case LoseSome:
		return "lose-some"
	}
	return fmt.Sprintf("Loss(%d)", int(l))
}

// Replay rebuilds the media that power cuts during a recorded workload
// would leave. It keeps one image, the durable state: the base image
// plus every write followed by a flush before the current cut. Cut
// points must be visited in increasing order so that the durable image
// only moves forward, which makes a cut cost only the writes since the
// previous one.
type Replay struct {
	durable *Mem
	ops     []Op
	applied int // ops[:applied] are in durable
	flushed int // ops[:flushed] end with a flush (or are empty)
}

// NewReplay starts a replay of ops over a copy of base, the image the
// recording started from.
func NewReplay(base []byte, ops []Op) *Replay {
	return &Replay{durable: MemFrom(append([]byte(nil), base...)), ops: ops}
}

// Cut returns the medium as a power cut after the first n operations of
// the log would leave it. Writes before the last flush among them are
// all there; the writes after it are treated according to loss, with
// rng choosing for LoseSome. The result is an Overlay on the replay's
// durable image, valid until the next call to Cut.
func (r *Replay) Cut(n int, loss Loss, rng *rand.Rand) (*Overlay, error) {
	if n < r.applied || n > len(r.ops) {
		return nil, fmt.Errorf("blockdev: cut at %d: log has %d ops, replay is at %d", n, len(r.ops), r.applied)
	}
	for i := r.flushed; i < n; i++ {
		if r.ops[i].Flush {
			r.flushed = i + 1
		}
	}
	for ; r.applied < r.flushed; r.applied++ {
		if op := r.ops[r.applied]; !op.Flush {
			if err := r.durable.WriteAt(op.Data, op.Block); err != nil {
				return nil, err
			}
		}
	}
	o := NewOverlay(r.durable)
	for _, op := range r.ops[r.flushed:n] {
		if err := lose(o, op, loss, rng); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// lose applies one unflushed write to o as the loss model says.
func lose(o *Overlay, op Op, loss Loss, rng *rand.Rand) error {
	switch {
	case op.Flush || loss == LoseAll:
		return nil
	case loss == KeepAll:
		return o.WriteAt(op.Data, op.Block)
	}
	switch rng.IntN(3) {
	case 0: // lost
		return nil
	case 1: // written
		return o.WriteAt(op.Data, op.Block)
	}
	// Torn: some sectors new, the rest as they were.
	block := make([]byte, BlockSize)
	if err := o.ReadAt(block, op.Block); err != nil {
		return err
	}
	mask := rng.Uint32()
	for s := 0; s < BlockSize/SectorSize; s++ {
		if mask&(1<<s) != 0 {
			copy(block[s*SectorSize:(s+1)*SectorSize], op.Data[s*SectorSize:])
		}
	}
	return o.WriteAt(block, op.Block)
}
