package nvme

import (
	"errors"
	"fmt"
)

// Close implements block.Device. Commands not yet in the submission
// queue fail at once; the controller is told to shut down (CC.SHN normal,
// Base 2.0 §3.6) and given ShutdownTimeout to report CSTS.SHST
// complete, during which commands in flight may still complete; then it
// is disabled (CC.EN=0) and whatever is still in flight fails with
// ErrClosed. DMA memory is given back once CSTS.RDY shows the controller
// stopped. Closing again returns nil.
func (c *Controller) Close() error { return c.teardown(true) }

// teardown is Close, and New's undoing when bring-up fails (notify false:
// a controller not brought up gets no shutdown notification).
func (c *Controller) teardown(notify bool) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	running := c.failErr == nil
	var unsent []*command
	for _, q := range []*queue{c.admin, c.io} {
		if q != nil {
			unsent = append(unsent, q.backlog...)
			q.backlog = nil
		}
	}
	c.mu.Unlock()
	for _, cmd := range unsent {
		c.abandon(cmd, fmt.Errorf("%s: %s not sent: %w", c.name, cmd.describe(), ErrClosed), true)
	}

	var errs []error
	if notify && running && c.enabled {
		cc := c.regs.Read32(regCC)
		c.regs.Write32(regCC, cc&^ccSHNMask|ccSHNormal)
		err := c.waitStatus("CSTS.SHST=10b (shutdown complete) after CC.SHN=01b", c.opts.ShutdownTimeout, true,
			func(s uint32) bool { return s&cstsSHSTMask == cstsSHSTComplete })
		errs = append(errs, err)
	}
	errs = append(errs, c.disable())
	c.stop()
	c.loops.Wait()

	c.mu.Lock()
	rest := c.takeAllLocked()
	c.mu.Unlock()
	for _, cmd := range rest {
		c.abandon(cmd, fmt.Errorf("%s: %s in flight: %w", c.name, cmd.describe(), ErrClosed), c.quiet)
	}
	if !c.quiet {
		errs = append(errs, fmt.Errorf("%s: controller did not stop; its DMA memory is not freed", c.name))
		return errors.Join(errs...)
	}
	for _, q := range []*queue{c.admin, c.io} {
		if q != nil {
			q.release(c.dma)
		}
	}
	if c.ident != nil {
		c.dma.Free(c.ident)
	}
	return errors.Join(errs...)
}

// disable clears CC.EN and waits, up to CAP.TO, for CSTS.RDY to clear:
// a controller reset, after which it no longer uses the queues or any
// DMA memory (§3.7.2). It runs once; later callers wait for the first
// and share its outcome, recorded in c.quiet.
func (c *Controller) disable() error {
	c.disableOnce.Do(func() {
		if !c.enabled {
			c.quiet = true
			return
		}
		cc := c.regs.Read32(regCC)
		c.regs.Write32(regCC, cc&^(ccEN|ccSHNMask))
		c.disableErr = c.waitStatus("CSTS.RDY=0 after CC.EN=0", c.caps.timeout, true,
			func(s uint32) bool { return s&cstsRDY == 0 })
		c.quiet = c.disableErr == nil
	})
	return c.disableErr
}
