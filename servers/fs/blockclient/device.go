package blockclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-multierror"

	"valence.dev/drivers/lib/block"
	"valence.dev/ipc"
	"valence.dev/servers/fs/blockdev"
)

// ErrDriverGone is wrapped by every error of a Device whose connection
// to the driver failed: the driver died, or stopped answering.
var ErrDriverGone = errors.New("blockclient: the block driver is gone")

// ErrGeometry reports a disk the filesystem cannot use.
var ErrGeometry = errors.New("blockclient: unsupported disk geometry")

// Options configure Open.
type Options struct {
	// Map maps the memory handle of the shared buffer and returns its
	// bytes (size of them). Required.
	Map func(h ipc.Handle, size uint64) ([]byte, error)
	// Unmap, if set, is called by Close with what Map returned.
	Unmap func(b []byte) error
	// BufferSize is the size of the shared buffer (default 1 MiB, at
	// most block.MaxBuffer).
	BufferSize uint64
	// Concurrency is the most requests in flight (default 8); the buffer
	// is cut into that many slots.
	Concurrency int
	// Timeout bounds one request (default 30 s). A request that takes
	// longer breaks the device, as if the driver had died.
	Timeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.BufferSize == 0 {
		o.BufferSize = 1 << 20
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	return o
}

// Device is a blockdev.Device served by a block driver. Its methods are
// safe for concurrent use.
type Device struct {
	c      block.Client
	opts   Options
	info   block.Info
	perBlk uint64 // sectors per filesystem block
	blocks uint64
	id     uint32 // the attached buffer
	buf    []byte
	slot   uint64        // bytes per slot, a multiple of BlockSize
	free   chan int      // indexes of free slots
	gone   chan struct{} // closed when the device breaks

	mu     sync.Mutex
	broken error // why the device broke, or nil
}

var _ blockdev.Device = (*Device)(nil)

// Open identifies the disk behind c, checks its geometry, and attaches
// and maps the shared buffer.
func Open(ctx context.Context, c block.Client, o Options) (*Device, error) {
	o = o.withDefaults()
	if o.Map == nil {
		return nil, errors.New("blockclient: Options.Map is required")
	}
	if o.BufferSize > block.MaxBuffer || o.BufferSize < blockdev.BlockSize {
		return nil, fmt.Errorf("blockclient: buffer of %d bytes (%d to %d): %w", o.BufferSize, blockdev.BlockSize, block.MaxBuffer, syscall.EINVAL)
	}
	info, err := c.Identify(ctx)
	if err != nil {
		return nil, wrapCall("identify", err)
	}
	d := &Device{c: c, opts: o, info: info, gone: make(chan struct{})}
	if err := d.setGeometry(); err != nil {
		return nil, err
	}
	a, err := c.Attach(ctx, o.BufferSize)
	if err != nil {
		return nil, wrapCall("attach", err)
	}
	if a.Size < o.BufferSize {
		return nil, fmt.Errorf("blockclient: attach gave %d bytes, want %d", a.Size, o.BufferSize)
	}
	if d.buf, err = o.Map(a.Mem, a.Size); err != nil {
		_ = c.Detach(ctx, a.ID)
		return nil, fmt.Errorf("blockclient: map buffer: %w", err)
	}
	if uint64(len(d.buf)) < o.BufferSize {
		_ = c.Detach(ctx, a.ID)
		return nil, fmt.Errorf("blockclient: mapped %d bytes, want %d", len(d.buf), o.BufferSize)
	}
	d.id = a.ID
	d.setSlots()
	return d, nil
}

// setGeometry checks the disk and derives the block count.
func (d *Device) setGeometry() error {
	ss := uint64(d.info.SectorSize)
	if ss != 512 && ss != 4096 {
		return fmt.Errorf("%w: sectors of %d bytes (want 512 or 4096)", ErrGeometry, ss)
	}
	d.perBlk = blockdev.BlockSize / ss
	if m := uint64(d.info.MaxSectors); m != 0 && m < d.perBlk {
		return fmt.Errorf("%w: at most %d sectors per request, less than a %d-byte block", ErrGeometry, m, blockdev.BlockSize)
	}
	d.blocks = d.info.Sectors / d.perBlk
	if d.blocks == 0 {
		return fmt.Errorf("%w: %d sectors is less than a block", ErrGeometry, d.info.Sectors)
	}
	return nil
}

// setSlots cuts the buffer into slots: as many as Concurrency allows,
// each whole blocks, none larger than one request may move.
func (d *Device) setSlots() {
	n := uint64(d.opts.Concurrency)
	size := d.opts.BufferSize / n / blockdev.BlockSize * blockdev.BlockSize
	if size == 0 { // more slots asked for than blocks in the buffer
		size, n = blockdev.BlockSize, d.opts.BufferSize/blockdev.BlockSize
	}
	if m := uint64(d.info.MaxSectors); m != 0 {
		size = min(size, m/d.perBlk*blockdev.BlockSize)
	}
	d.slot = size
	d.free = make(chan int, n)
	for i := range int(n) {
		d.free <- i
	}
}

// Info returns what the driver reported about the disk.
func (d *Device) Info() block.Info { return d.info }

// Blocks implements blockdev.Device.
func (d *Device) Blocks() uint64 { return d.blocks }

// ReadAt implements blockdev.Device.
func (d *Device) ReadAt(p []byte, blk uint64) error {
	return d.transfer(block.OpRead, p, blk)
}

// WriteAt implements blockdev.Device.
func (d *Device) WriteAt(p []byte, blk uint64) error {
	return d.transfer(block.OpWrite, p, blk)
}

// Flush implements blockdev.Device: the driver's Flush, after which
// every write that completed before it is durable.
func (d *Device) Flush() error {
	if err := d.err(); err != nil {
		return err
	}
	ctx, cancel := d.context()
	defer cancel()
	if err := d.c.Flush(ctx); err != nil {
		return d.fail("flush", err)
	}
	return nil
}

// Close detaches and unmaps the buffer. The Device must not be used
// afterwards.
func (d *Device) Close() error {
	var errs *multierror.Error
	if d.err() == nil {
		ctx, cancel := d.context()
		if err := d.c.Detach(ctx, d.id); err != nil {
			errs = multierror.Append(errs, fmt.Errorf("blockclient: detach: %w", err))
		}
		cancel()
	}
	if d.opts.Unmap != nil && d.buf != nil {
		if err := d.opts.Unmap(d.buf); err != nil {
			errs = multierror.Append(errs, fmt.Errorf("blockclient: unmap: %w", err))
		}
	}
	d.buf = nil
	d.breakWith(errors.New("device closed"))
	return errs.ErrorOrNil()
}
