package blk

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"valence.dev/drivers/lib/block"
	"valence.dev/drivers/lib/dev"
	"valence.dev/drivers/lib/virtio"
)

// Feature bits of the block device the driver uses (VIRTIO 1.2 §5.2.3).
const (
	FeatureSizeMax = 1 << 1
	FeatureSegMax  = 1 << 2
	FeatureRO      = 1 << 5
	FeatureBlkSize = 1 << 6
	FeatureFlush   = 1 << 9
	wantFeatures   = FeatureSizeMax | FeatureSegMax | FeatureRO | FeatureBlkSize | FeatureFlush
)

// Request types and status values (§5.2.6).
const (
	typeIn        = 0
	typeOut       = 1
	typeFlush     = 4
	typeGetID     = 8
	statusOK      = 0
	statusIOErr   = 1
	statusUnsupp  = 2
	statusUnset   = 0xff // put in the status byte before submission, to see whether the device wrote it
	headerLen     = 16   // struct virtio_blk_req up to data
	slotStride    = 32   // a request's header and, at headerLen, its status byte
	idLen         = 20   // VIRTIO_BLK_T_GET_ID data (§5.2.6.1)
	protocolBlock = 512  // the unit of sector, whatever blk_size says (§5.2.5)
)

// Configuration offsets (struct virtio_blk_config, §5.2.4).
const (
	cfgCapacity = 0
	cfgSizeMax  = 8
	cfgSegMax   = 12
	cfgBlkSize  = 20
)

// Limits the driver sets itself.
const (
	maxQueueSize    = 256
	maxRequestBytes = 1 << 20 // largest request; Info.MaxSectors follows from it
	maxBlockSize    = 1 << 16
)

// Errors a request can fail with, besides device failure (which wraps
// virtio.ErrDevice or virtio.ErrNeedsReset).
var (
	ErrIO          = errors.New("virtio-blk: I/O error")           // VIRTIO_BLK_S_IOERR
	ErrUnsupported = errors.New("virtio-blk: request unsupported") // VIRTIO_BLK_S_UNSUPP
	ErrReadOnly    = errors.New("virtio-blk: device is read-only") // VIRTIO_BLK_F_RO
	ErrInvalid     = errors.New("virtio-blk: invalid request")
	ErrClosed      = errors.New("virtio-blk: closed")
)

// work is one request to the device: a client's block.Request, or the
// driver's own GET_ID.
type work struct {
	typ    uint32
	sector uint64
	data   []virtio.Segment
	done   func(error)
}

// Disk is an open virtio-blk device with one request queue. It implements
// block.Device.
type Disk struct {
	t        *virtio.Transport
	dma      dev.DMA
	q        *virtio.Queue
	headers  *dev.Buffer // nslots × slotStride
	idBuf    *dev.Buffer
	features uint64
	info     block.Info
	segMax   int    // data segments per request
	segBytes uint64 // bytes per data segment
	cancel   context.CancelFunc
	served   chan struct{}

	// mu guards the request state. Invariant: a slot is either on
	// freeSlots or holds the work whose chain is in the queue under that
	// slot's token; pending work waits, in order, for a slot and
	// descriptors.
	mu        sync.Mutex
	slots     []*work
	freeSlots []int
	pending   []*work
	err       error // sticky: device failure or ErrClosed
	closed    bool
}

var _ block.Device = (*Disk)(nil)

// Open initialises the device behind t (§3.1.1, §5.2.5) and starts serving
// its interrupts.
func Open(ctx context.Context, t *virtio.Transport, dma dev.DMA, irqs virtio.Interrupts) (*Disk, error) {
	d := &Disk{t: t, dma: dma, served: make(chan struct{})}
	if err := d.init(ctx, irqs); err != nil {
		d.release(ctx)
		t.Fail()
		return nil, fmt.Errorf("virtio-blk: open: %w", err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	go func() {
		defer close(d.served)
		if err := t.Serve(sctx, virtio.Handler{Queue: func(uint16) { d.complete() }, Config: d.configChanged}); err != nil {
			d.fail(err)
		}
	}()
	d.info.Serial = d.readSerial(ctx)
	return d, nil
}

func (d *Disk) init(ctx context.Context, irqs virtio.Interrupts) error {
	var err error
	if d.features, err = d.t.Negotiate(ctx, wantFeatures); err != nil {
		return err
	}
	if err = d.t.UseInterrupts(irqs); err != nil {
		return err
	}
	if d.q, err = d.t.SetupQueue(0, d.dma, maxQueueSize); err != nil {
		return err
	}
	if err = d.readConfig(); err != nil {
		return err
	}
	// Each request takes at least two descriptors (header, status).
	n := max(1, int(d.q.Size())/2)
	if d.headers, err = d.dma.Alloc(uint64(n)*slotStride, 64); err != nil {
		return err
	}
	if d.idBuf, err = d.dma.Alloc(idLen, 4); err != nil {
		return err
	}
	d.slots = make([]*work, n)
	for i := range n {
		d.freeSlots = append(d.freeSlots, n-1-i)
	}
	return d.t.Ready()
}

// readConfig reads and checks the geometry (§5.2.4, §5.2.5).
func (d *Disk) readConfig() error {
	if d.t.ConfigLen() < cfgBlkSize+4 {
		return fmt.Errorf("device configuration of %d bytes is too short: %w", d.t.ConfigLen(), virtio.ErrDevice)
	}
	var capacity uint64
	var sizeMax, segMax, blkSize uint32
	err := d.t.ReadConfig(func(cfg dev.Regs) {
		capacity = uint64(cfg.Read32(cfgCapacity)) | uint64(cfg.Read32(cfgCapacity+4))<<32
		sizeMax = cfg.Read32(cfgSizeMax)
		segMax = cfg.Read32(cfgSegMax)
		blkSize = cfg.Read32(cfgBlkSize)
	})
	if err != nil {
		return err
	}
	bs := uint32(protocolBlock)
	if d.features&FeatureBlkSize != 0 {
		if blkSize < protocolBlock || blkSize > maxBlockSize || blkSize&(blkSize-1) != 0 {
			return fmt.Errorf("blk_size %d is not a power of 2 from %d to %d: %w", blkSize, protocolBlock, maxBlockSize, virtio.ErrDevice)
		}
		bs = blkSize
	}
	d.segMax = int(d.q.Size()) - 2 // header and status take two
	if d.features&FeatureSegMax != 0 {
		if segMax == 0 {
			return fmt.Errorf("seg_max is 0: %w", virtio.ErrDevice)
		}
		d.segMax = min(d.segMax, int(min(segMax, 1<<16)))
	}
	if d.segMax < 1 {
		return fmt.Errorf("queue of %d descriptors holds no data segment: %w", d.q.Size(), virtio.ErrDevice)
	}
	d.segBytes = maxRequestBytes
	if d.features&FeatureSizeMax != 0 {
		if sizeMax < bs {
			return fmt.Errorf("size_max %d is smaller than a block (%d): %w", sizeMax, bs, virtio.ErrDevice)
		}
		d.segBytes = min(d.segBytes, uint64(sizeMax))
	}
	maxBytes := min(maxRequestBytes, uint64(d.segMax)*d.segBytes)
	d.info = block.Info{
		Model:      "virtio-blk",
		SectorSize: bs,
		Sectors:    capacity / uint64(bs/protocolBlock),
		MaxSectors: uint32(maxBytes / uint64(bs)),
	}
	if d.info.MaxSectors == 0 {
		return fmt.Errorf("requests of at most %d bytes cannot hold one %d-byte block: %w", maxBytes, bs, virtio.ErrDevice)
	}
	return nil
}

// Info implements block.Device.
func (d *Disk) Info() block.Info { return d.info }

// Features returns the features negotiated.
func (d *Disk) Features() uint64 { return d.features }

// readSerial asks the device for its ID string (VIRTIO_BLK_T_GET_ID,
// §5.2.6): up to 20 bytes, NUL-padded. A device that fails it has no
// serial; one that never answers holds up Open until ctx is done.
func (d *Disk) readSerial(ctx context.Context) string {
	clear(d.idBuf.Bytes[:idLen])
	result := make(chan error, 1)
	d.issueAll(&work{typ: typeGetID, data: []virtio.Segment{{Addr: d.idBuf.Addr, Len: idLen, Write: true}},
		done: func(err error) { result <- err }})
	select {
	case err := <-result:
		if err != nil {
			return ""
		}
	case <-ctx.Done():
		return ""
	}
	id := d.idBuf.Bytes[:idLen]
	for i, c := range id {
		if c == 0 {
			id = id[:i]
			break
		}
	}
	return string(id)
}
