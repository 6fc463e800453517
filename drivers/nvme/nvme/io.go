package nvme

import (
	"encoding/binary"
	"fmt"
	"time"

	"valence.dev/drivers/lib/block"
	"valence.dev/drivers/lib/dev"
)

// Submit implements block.Device. It checks r and fails it through Done
// at once if it cannot be sent; otherwise it queues the command, which
// enters the submission queue as soon as a command identifier is free.
// Done is called exactly once, from Submit's goroutine only on immediate
// failure, otherwise from the completion loop, the watchdog or Close.
func (c *Controller) Submit(r *block.Request) {
	if r == nil {
		return
	}
	done := r.Done
	if done == nil {
		done = func(error) {}
	}
	cmd, err := c.prepare(r)
	if err != nil {
		done(err)
		return
	}
	cmd.done = done
	c.mu.Lock()
	if err := c.usableLocked(); err != nil {
		c.mu.Unlock()
		if cmd.prpList != nil {
			c.dma.Free(cmd.prpList) // never seen by the device
		}
		done(err)
		return
	}
	c.io.backlog = append(c.io.backlog, cmd)
	c.io.issue(c.regs, c.opts.CommandTimeout)
	c.mu.Unlock()
}

// usableLocked says why no command may be sent now, if so.
func (c *Controller) usableLocked() error {
	switch {
	case c.closed:
		return fmt.Errorf("%s: %w", c.name, ErrClosed)
	case c.failErr != nil:
		return fmt.Errorf("%s: controller failed earlier: %w", c.name, c.failErr)
	}
	return nil
}

// prepare checks a request and builds its command (NVM Command Set 1.0
// §3.2: SLBA in CDW10-11, NLB 0's based in CDW12 bits 15:0; Flush, Base
// 2.0 §7.1, has no fields). Namespace 1 is the only one driven.
func (c *Controller) prepare(r *block.Request) (*command, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s: %w", c.name, fmt.Sprintf(format, args...), ErrBadRequest)
	}
	cmd := &command{lba: r.LBA, count: r.Count}
	var op uint8
	switch r.Op {
	case block.OpFlush:
		cmd.sqe = sqe{opcode: ioFlush, nsid: 1}
		return cmd, nil
	case block.OpRead:
		op = ioRead
	case block.OpWrite:
		op = ioWrite
	default:
		return nil, bad("unknown op %d", r.Op)
	}
	name := opName(false, op)
	switch {
	case r.Count == 0:
		return nil, bad("%s of 0 blocks", name)
	case r.Count > c.info.MaxSectors:
		return nil, bad("%s of %d blocks exceeds the %d one request may move (MDTS %d)", name, r.Count, c.info.MaxSectors, c.id.MDTS)
	case r.LBA >= c.info.Sectors || uint64(r.Count) > c.info.Sectors-r.LBA:
		return nil, bad("%s LBA %d+%d beyond the namespace's %d blocks", name, r.LBA, r.Count, c.info.Sectors)
	case r.Buf == nil:
		return nil, bad("%s without a buffer", name)
	}
	n := uint64(r.Count) * uint64(c.info.SectorSize)
	size := uint64(len(r.Buf.Bytes))
	addr := r.Buf.Addr + r.Off
	switch {
	case r.Off > size || n > size-r.Off:
		return nil, bad("%s of %d bytes at offset %d does not fit a %d-byte buffer", name, n, r.Off, size)
	case addr < r.Buf.Addr || addr+n < addr:
		return nil, bad("%s buffer at bus address %#x+%d wraps", name, addr, n)
	case addr%4 != 0:
		// PRP offsets must be dword aligned (Base 2.0 §4.1.1).
		return nil, bad("%s data at bus address %#x is not 4-byte aligned", name, addr)
	}
	cmd.sqe = sqe{opcode: op, nsid: 1, cdw10: uint32(r.LBA), cdw11: uint32(r.LBA >> 32), cdw12: r.Count - 1}
	var err error
	cmd.sqe.prp1, cmd.sqe.prp2, cmd.prpList, err = c.buildPRP(addr, n)
	if err != nil {
		return nil, fmt.Errorf("%s: %s PRP list: %w", c.name, name, err)
	}
	return cmd, nil
}

// buildPRP describes n bytes at bus address addr, physically contiguous,
// with PRP entries (Base 2.0 §4.1.1): PRP1 is addr, any offset; every
// later entry is a page start. Two pages fit PRP1 and PRP2; more put the
// entries after the first into a PRP list that PRP2 points to. n is at
// most maxPRPBytes, so one list page is enough.
func (c *Controller) buildPRP(addr, n uint64) (prp1, prp2 uint64, list *dev.Buffer, err error) {
	first := pageSize - addr%pageSize
	if n <= first {
		return addr, 0, nil, nil
	}
	next := addr - addr%pageSize + pageSize
	rest := n - first
	if rest <= pageSize {
		return addr, next, nil, nil
	}
	pages := (rest + pageSize - 1) / pageSize
	if pages > pageSize/8 {
		return 0, 0, nil, fmt.Errorf("%d pages need more than one PRP list page: %w", pages, ErrBadRequest)
	}
	if list, err = c.dma.Alloc(pages*8, pageSize); err != nil {
		return 0, 0, nil, err
	}
	for i := range pages {
		binary.LittleEndian.PutUint64(list.Bytes[8*i:], next+i*pageSize)
	}
	return addr, list.Addr, list, nil
}

// serve is the completion loop: wait for the interrupt, consume both
// queues' new entries, ring their CQ head doorbells, then unmask.
func (c *Controller) serve() {
	defer c.loops.Done()
	for {
		if err := c.irq.Wait(c.ctx); err != nil {
			return
		}
		err := c.service()
		if ackErr := c.irq.Ack(); ackErr != nil && err == nil {
			err = fmt.Errorf("%s: interrupt ack: %w", c.name, ackErr)
		}
		if err != nil {
			c.fail(err, nil)
			return
		}
	}
}

// service reaps both completion queues and refills the submission queues
// from their backlogs; it finishes the commands outside the lock.
func (c *Controller) service() error {
	var done []finished
	var bad error
	c.mu.Lock()
	for _, q := range []*queue{c.admin, c.io} {
		if q == nil {
			continue
		}
		d, moved, err := q.reap(c.name)
		done = append(done, d...)
		if err != nil {
			bad = err
			break
		}
		if moved {
			c.regs.Write32(q.cqDB, uint32(q.cqHead))
		}
		if c.usableLocked() == nil {
			q.issue(c.regs, c.opts.CommandTimeout)
		}
	}
	c.mu.Unlock()
	for _, f := range done {
		c.finish(f.cmd, f.res)
	}
	return bad
}

// finish ends a command the device has completed: its PRP list is the
// driver's again.
func (c *Controller) finish(cmd *command, res result) {
	if cmd.prpList != nil {
		c.dma.Free(cmd.prpList)
		cmd.prpList = nil
	}
	if cmd.reply != nil {
		cmd.reply <- res
		return
	}
	cmd.done(res.err)
}

// abandon ends a command the device did not complete. Its PRP list is
// freed only if the device can no longer read it (it was never issued,
// or the controller is disabled); otherwise it is leaked on purpose.
func (c *Controller) abandon(cmd *command, err error, deviceDone bool) {
	if cmd.prpList != nil && !deviceDone {
		cmd.prpList = nil
	}
	c.finish(cmd, result{err: err})
}

// watch is the watchdog: a command in flight past its deadline fails the
// controller, since a late completion could no longer be told apart from
// a new one and the device might still move its data.
func (c *Controller) watch() {
	defer c.loops.Done()
	period := min(max(c.opts.CommandTimeout/4, time.Millisecond), time.Second)
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case now := <-tick.C:
			if late, err := c.findLate(now); err != nil {
				c.fail(err, late)
				return
			}
		}
	}
}

func (c *Controller) findLate(now time.Time) (*command, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, q := range []*queue{c.admin, c.io} {
		if q == nil {
			continue
		}
		if cmd := q.expired(now); cmd != nil {
			csts := c.regs.Read32(regCSTS)
			return cmd, fmt.Errorf("%s: %s not completed within %v (CSTS=%#x, SQ %d tail doorbell %#x=%d, CQ %d head %d): %w",
				c.name, cmd.describe(), c.opts.CommandTimeout, csts, q.id, q.sqDB, q.sqTail, q.id, q.cqHead, dev.ErrTimeout)
		}
	}
	return nil, nil
}

// fail gives the controller up: cause becomes the sticky error, the
// completion loop and watchdog stop, the controller is disabled, and
// every command not yet finished fails (culprit with cause itself).
func (c *Controller) fail(cause error, culprit *command) {
	c.mu.Lock()
	if c.failErr == nil {
		c.failErr = cause
	}
	cmds := c.takeAllLocked()
	c.mu.Unlock()
	c.stop()
	c.disable()
	for _, cmd := range cmds {
		err := cause
		if cmd != culprit {
			err = fmt.Errorf("%s: %s abandoned, controller failed: %w", c.name, cmd.describe(), cause)
		}
		c.abandon(cmd, err, c.quiet)
	}
}

func (c *Controller) takeAllLocked() []*command {
	var all []*command
	for _, q := range []*queue{c.admin, c.io} {
		if q != nil {
			all = append(all, q.takeAll()...)
		}
	}
	return all
}
