package blockclient

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"valence.dev/drivers/lib/block"
	"valence.dev/ipc/rpc"
	"valence.dev/servers/fs/blockdev"
)

// transfer moves p to or from the blocks starting at blk, in pieces of
// at most one slot, concurrently.
func (d *Device) transfer(op block.Op, p []byte, blk uint64) error {
	if len(p)%blockdev.BlockSize != 0 {
		return fmt.Errorf("blockclient: %d bytes at block %d: %w", len(p), blk, blockdev.ErrRange)
	}
	n := uint64(len(p) / blockdev.BlockSize)
	if blk > d.blocks || n > d.blocks-blk {
		return fmt.Errorf("blockclient: %d blocks at block %d of %d: %w", n, blk, d.blocks, blockdev.ErrRange)
	}
	if err := d.err(); err != nil {
		return err
	}
	if uint64(len(p)) <= d.slot { // the common case: one request, no goroutine
		return d.piece(op, p, blk)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	per := d.slot / blockdev.BlockSize
	for off := uint64(0); off < n; off += per {
		cnt := min(per, n-off)
		chunk := p[off*blockdev.BlockSize : (off+cnt)*blockdev.BlockSize]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := d.piece(op, chunk, blk+off); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

// piece moves one slot's worth: p is at most d.slot bytes.
func (d *Device) piece(op block.Op, p []byte, blk uint64) error {
	var i int
	select {
	case i = <-d.free:
	case <-d.gone:
		return d.err()
	}
	slot := d.buf[uint64(i)*d.slot : uint64(i)*d.slot+uint64(len(p))]
	if op == block.OpWrite {
		copy(slot, p)
	}
	ctx, cancel := d.context()
	defer cancel()
	lba := blk * d.perBlk
	count := uint32(uint64(len(p)) / blockdev.BlockSize * d.perBlk)
	var err error
	name := "read"
	if op == block.OpWrite {
		name = "write"
		err = d.c.Write(ctx, d.id, uint64(i)*d.slot, lba, count)
	} else {
		err = d.c.Read(ctx, d.id, uint64(i)*d.slot, lba, count)
	}
	if err != nil {
		if isConnection(err) {
			// The slot may still be the driver's: never reuse it.
			return d.fail(fmt.Sprintf("%s block %d", name, blk), err)
		}
		d.free <- i
		return fmt.Errorf("blockclient: %s %d blocks at %d: %w", name, len(p)/blockdev.BlockSize, blk, err)
	}
	if op == block.OpRead {
		copy(p, slot)
	}
	d.free <- i
	return nil
}

// isConnection reports whether err is about the connection rather than
// the driver's answer: anything that is not an *rpc.Error from it.
func isConnection(err error) bool {
	var re *rpc.Error
	return !errors.As(err, &re)
}

func (d *Device) context() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d.opts.Timeout)
}

// fail handles an error from a call: a connection failure breaks the
// device; the driver's answer is returned with context.
func (d *Device) fail(what string, err error) error {
	if isConnection(err) {
		d.breakWith(fmt.Errorf("%s: %w", what, err))
		return d.err()
	}
	return fmt.Errorf("blockclient: %s: %w", what, err)
}

// breakWith records the first reason the device broke and wakes every
// request waiting for a slot.
func (d *Device) breakWith(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.broken == nil {
		d.broken = err
		close(d.gone)
	}
}

// err returns the error every call of a broken device fails with.
func (d *Device) err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.broken == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrDriverGone, d.broken)
}

// wrapCall wraps the error of a call made before the device exists.
func wrapCall(what string, err error) error {
	if isConnection(err) {
		return fmt.Errorf("%w: %s: %w", ErrDriverGone, what, err)
	}
	return fmt.Errorf("blockclient: %s: %w", what, err)
}
