package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"valence.dev/drivers/lib/block"
	"valence.dev/ipc"
	"valence.dev/libos"
)

// The disk through the block protocol: the whole disk written with
// patterns by many requests in flight, flushed, and read back.

const (
	slots    = 32        // requests in flight
	slotSize = 128 << 10 // bytes each moves
)

// disk is a block client with one attached buffer cut into slots.
type disk struct {
	c    block.Client
	info block.Info
	id   uint32
	buf  []byte
}

func openDisk(ctx context.Context, server ipc.Handle) (*disk, error) {
	c := block.Client{T: libos.Endpoint{H: server}}
	info, err := c.Identify(ctx)
	if err != nil {
		return nil, fmt.Errorf("identify: %w", err)
	}
	a, err := c.Attach(ctx, slots*slotSize)
	if err != nil {
		return nil, fmt.Errorf("attach: %w", err)
	}
	buf, err := libos.Map(a.Mem, syscall.PROT_READ|syscall.PROT_WRITE)
	if err != nil {
		return nil, fmt.Errorf("mapping the shared buffer: %w", err)
	}
	return &disk{c: c, info: info, id: a.ID, buf: buf}, nil
}

// pattern fills b with the bytes block lba holds in pass seed: every
// 8-byte word names its block, its place and the pass, so a block
// written to the wrong place, a stale one or a torn one is recognised.
func pattern(b []byte, lba uint64, seed uint64) {
	for i := 0; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], lba<<24^uint64(i)<<8^seed*0x9E3779B97F4A7C15)
	}
}

// sweep runs op over the whole disk, slotSize at a time, with slots
// requests in flight; check, if not nil, verifies each chunk read.
func (d *disk) sweep(ctx context.Context, write bool, seed uint64, stop func() bool) (chunks int, err error) {
	per := uint64(slotSize / d.info.SectorSize)
	total := (d.info.Sectors + per - 1) / per
	next := make(chan uint64, slots)
	go func() {
		defer close(next)
		for i := uint64(0); i < total; i++ {
			if stop != nil && stop() {
				return
			}
			next <- i
		}
	}()
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for s := 0; s < slots; s++ {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			slot := d.buf[s*slotSize : (s+1)*slotSize]
			for i := range next {
				lba := i * per
				n := per
				if lba+n > d.info.Sectors {
					n = d.info.Sectors - lba
				}
				bytes := slot[:n*uint64(d.info.SectorSize)]
				var err error
				if write {
					for b := uint64(0); b < n; b++ {
						pattern(bytes[b*uint64(d.info.SectorSize):(b+1)*uint64(d.info.SectorSize)], lba+b, seed)
					}
					err = d.c.Write(ctx, d.id, uint64(s*slotSize), lba, uint32(n))
				} else {
					clear(bytes)
					err = d.c.Read(ctx, d.id, uint64(s*slotSize), lba, uint32(n))
					if err == nil {
						err = verify(bytes, lba, uint64(d.info.SectorSize), seed)
					}
				}
				mu.Lock()
				if err != nil && first == nil {
					first = fmt.Errorf("blocks %d-%d: %w", lba, lba+n-1, err)
				}
				if err == nil {
					chunks++
				}
				failed := first != nil
				mu.Unlock()
				if failed {
					for range next {
					}
					return
				}
			}
		}(s)
	}
	wg.Wait()
	return chunks, first
}

func verify(b []byte, lba, sector, seed uint64) error {
	want := make([]byte, sector)
	for off := uint64(0); off < uint64(len(b)); off += sector {
		pattern(want, lba+off/sector, seed)
		for i := range want {
			if b[off+uint64(i)] != want[i] {
				return fmt.Errorf("block %d byte %d reads %#x, want %#x", lba+off/sector, i, b[off+uint64(i)], want[i])
			}
		}
	}
	return nil
}

// errPeerDied reports whether err is the kernel's "the server died".
func errPeerDied(err error) bool { return errors.Is(err, syscall.EOWNERDEAD) }

// envInt is the positive integer in environment variable name, or def.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// roundTrip writes the whole disk with a fresh pattern, flushes, reads it
// all back and checks it, and says how long each way took.
func (d *disk) roundTrip(ctx context.Context, name string) error {
	seed := uint64(time.Now().UnixNano())
	t0 := time.Now()
	if n, err := d.sweep(ctx, true, seed, nil); err != nil {
		return fmt.Errorf("writing (after %d chunks): %w", n, err)
	}
	if err := d.c.Flush(ctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	t1 := time.Now()
	if n, err := d.sweep(ctx, false, seed, nil); err != nil {
		return fmt.Errorf("reading back (after %d chunks): %w", n, err)
	}
	fmt.Printf("drvtests: %s: %d MiB written in %v and read back intact in %v, %d requests in flight\n",
		name, d.info.Sectors*uint64(d.info.SectorSize)>>20, t1.Sub(t0).Round(time.Millisecond), time.Since(t1).Round(time.Millisecond), slots)
	return nil
}
