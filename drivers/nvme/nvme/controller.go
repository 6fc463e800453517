package nvme

import (
	"context"
	"fmt"
	"sync"
	"time"

	"valence.dev/drivers/lib/block"
	"valence.dev/drivers/lib/dev"
)

// Options tune a Controller; the zero value is usable.
type Options struct {
	// Name names the device in errors, e.g. "nvme0". Default "nvme".
	Name string
	// QueueDepth is the number of entries in the I/O submission and
	// completion queues; QueueDepth-1 commands may be in flight. Default
	// 64; at most 4096; lowered to CAP.MQES+1 if the device allows fewer.
	QueueDepth int
	// CommandTimeout bounds every command, admin or I/O, from the time
	// it enters the submission queue. Default 30 s.
	CommandTimeout time.Duration
	// ShutdownTimeout bounds the wait for CSTS.SHST in Close. Default
	// the larger of Identify's RTD3E and CAP.TO.
	ShutdownTimeout time.Duration
}

const (
	defaultQueueDepth     = 64
	maxQueueDepth         = 4096
	adminQueueDepth       = 16
	defaultCommandTimeout = 30 * time.Second
	// maxPRPBytes is the most one request moves: PRP1 plus one PRP list
	// page of pageSize/8 entries always covers it.
	maxPRPBytes = pageSize / 8 * pageSize
	// maxBlocksPerCommand is what the 16-bit, 0's based NLB field holds.
	maxBlocksPerCommand = 1 << 16
)

// Controller drives one NVMe controller and namespace 1 on it, through
// one admin queue pair and one I/O queue pair. It implements
// block.Device. See the package documentation for its invariants.
type Controller struct {
	regs dev.Regs
	dma  dev.DMA
	irq  dev.IRQ
	name string
	opts Options
	caps capabilities
	id   Identity
	info block.Info

	ident   *dev.Buffer // Identify data lands here
	enabled bool        // CC.EN has been set; written before the goroutines start

	stop  context.CancelFunc // ends the completion loop and the watchdog
	ctx   context.Context
	loops sync.WaitGroup

	disableOnce sync.Once
	disableErr  error
	quiet       bool // the device is disabled and no longer touches DMA memory

	mu      sync.Mutex // guards what follows and the queues' state
	admin   *queue
	io      *queue // nil until allocated
	closed  bool
	failErr error // why the controller was given up, if it was
}

var _ block.Device = (*Controller)(nil)

// New resets and brings up the controller behind regs (BAR0), then
// identifies it and namespace 1 and creates one I/O queue pair whose
// completions interrupt on irq (vector 0, which the admin queue uses
// too). It follows Base 2.0 §3.5.1. On error nothing is left running
// and the DMA memory is given back if the device stopped.
func New(regs dev.Regs, dma dev.DMA, irq dev.IRQ, opts Options) (*Controller, error) {
	if opts.Name == "" {
		opts.Name = "nvme"
	}
	if opts.CommandTimeout <= 0 {
		opts.CommandTimeout = defaultCommandTimeout
	}
	switch {
	case opts.QueueDepth == 0:
		opts.QueueDepth = defaultQueueDepth
	case opts.QueueDepth < 2 || opts.QueueDepth > maxQueueDepth:
		return nil, fmt.Errorf("%s: Options.QueueDepth %d not in 2..%d: %w", opts.Name, opts.QueueDepth, maxQueueDepth, ErrBadRequest)
	}
	c := &Controller{regs: regs, dma: dma, irq: irq, name: opts.Name, opts: opts}
	c.ctx, c.stop = context.WithCancel(context.Background())
	if regs.Len() < regDoorbells+8 {
		return nil, fmt.Errorf("%s: register window of %#x bytes has no doorbells: %w", c.name, regs.Len(), ErrDevice)
	}
	c.caps = decodeCAP(regs.Read64(regCAP))
	if err := c.caps.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", c.name, err)
	}
	c.opts.QueueDepth = min(c.opts.QueueDepth, int(c.caps.mqes))
	if err := c.reset(); err != nil {
		return nil, err
	}
	if err := c.bringUp(); err != nil {
		c.teardown(false)
		return nil, err
	}
	return c, nil
}

// reset disables the controller as firmware or a previous driver left it
// (§3.5.1 step 1). CC.EN may only change once CSTS.RDY has followed its
// last change (§3.1.3.5), so a controller still enabling is waited for.
func (c *Controller) reset() error {
	cc := c.regs.Read32(regCC)
	if cc&ccEN != 0 {
		// If it never gets ready it is reset all the same.
		_ = c.waitStatus("CSTS.RDY=1 before reset", c.caps.timeout, true, func(s uint32) bool { return s&cstsRDY != 0 })
		c.regs.Write32(regCC, cc&^(ccEN|ccSHNMask))
	}
	return c.waitStatus("CSTS.RDY=0 after CC.EN=0 (reset)", c.caps.timeout, true, func(s uint32) bool { return s&cstsRDY == 0 })
}

// bringUp does §3.5.1 steps 2 to 9: the admin queue, CC, enabling,
// identification and the I/O queue pair.
func (c *Controller) bringUp() error {
	var err error
	if c.admin, err = newQueue(c.dma, c.caps, c.regs, 0, adminQueueDepth); err != nil {
		return fmt.Errorf("%s: admin queue: %w", c.name, err)
	}
	if c.ident, err = c.dma.Alloc(identifySize, pageSize); err != nil {
		return fmt.Errorf("%s: identify buffer: %w", c.name, err)
	}
	// AQA holds the 0's based sizes: ACQS in bits 27:16, ASQS in 11:0.
	c.regs.Write32(regAQA, uint32(adminQueueDepth-1)<<16|uint32(adminQueueDepth-1))
	write64(c.regs, regASQ, c.admin.sq.Addr)
	write64(c.regs, regACQ, c.admin.cq.Addr)
	c.regs.Write32(regCC, ccIOCQES|ccIOSQES|ccAMSRR|ccMPS4K|ccCSSNVM)
	c.regs.Write32(regCC, ccIOCQES|ccIOSQES|ccAMSRR|ccMPS4K|ccCSSNVM|ccEN)
	c.enabled = true
	if err := c.waitStatus("CSTS.RDY=1 after CC.EN=1", c.caps.timeout, false, func(s uint32) bool { return s&cstsRDY != 0 }); err != nil {
		return err
	}
	c.loops.Add(2)
	go c.serve()
	go c.watch()

	if err := c.identify(); err != nil {
		return err
	}
	return c.createIOQueues()
}

// identify reads Identify Controller and Identify Namespace 1 and sets
// c.id and c.info from them.
func (c *Controller) identify() error {
	if _, err := c.adminCall(sqe{opcode: adminIdentify, prp1: c.ident.Addr, cdw10: cnsController}); err != nil {
		return fmt.Errorf("%s: identify controller: %w", c.name, err)
	}
	id, err := parseIdentifyController(c.ident.Bytes)
	if err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	if _, err := c.adminCall(sqe{opcode: adminIdentify, nsid: 1, prp1: c.ident.Addr, cdw10: cnsNamespace}); err != nil {
		return fmt.Errorf("%s: identify namespace 1: %w", c.name, err)
	}
	ns, err := parseIdentifyNamespace(c.ident.Bytes)
	if err != nil {
		return fmt.Errorf("%s: namespace 1: %w", c.name, err)
	}
	maxBytes := id.maxTransfer(maxPRPBytes)
	maxBlocks := min(maxBytes/uint64(ns.sectorSize), maxBlocksPerCommand)
	if maxBlocks == 0 {
		return fmt.Errorf("%s: MDTS %d allows %d bytes, less than one %d-byte block: %w",
			c.name, id.MDTS, maxBytes, ns.sectorSize, ErrDevice)
	}
	c.id = id
	c.info = block.Info{
		Model:      id.Model,
		Serial:     id.Serial,
		SectorSize: ns.sectorSize,
		Sectors:    ns.sectors,
		MaxSectors: uint32(maxBlocks),
	}
	if c.opts.ShutdownTimeout <= 0 {
		c.opts.ShutdownTimeout = max(time.Duration(id.RTD3Entry)*time.Microsecond, c.caps.timeout)
	}
	return nil
}

// createIOQueues asks for one I/O queue pair (Set Features Number of
// Queues, §5.27.1) and creates it: the completion queue first, with
// interrupts on vector 0 (§5.4), then the submission queue (§5.5).
func (c *Controller) createIOQueues() error {
	// NCQR in bits 31:16 and NSQR in 15:0, both 0's based: one each.
	if _, err := c.adminCall(sqe{opcode: adminSetFeatures, cdw10: featNumberOfQueue, cdw11: 0}); err != nil {
		return fmt.Errorf("%s: set features number of queues: %w", c.name, err)
	}
	depth := uint16(c.opts.QueueDepth)
	io, err := newQueue(c.dma, c.caps, c.regs, 1, depth)
	if err != nil {
		return fmt.Errorf("%s: I/O queue: %w", c.name, err)
	}
	c.mu.Lock()
	c.io = io
	c.mu.Unlock()
	size := uint32(depth-1) << 16 // QSIZE, 0's based, bits 31:16; QID in 15:0
	const pc, ien = 1 << 0, 1 << 1
	if _, err := c.adminCall(sqe{opcode: adminCreateIOCQ, prp1: io.cq.Addr, cdw10: size | 1, cdw11: ien | pc}); err != nil {
		return fmt.Errorf("%s: create I/O completion queue 1 (%d entries): %w", c.name, depth, err)
	}
	// CQID in bits 31:16, QPRIO 0 (urgent; ignored under round robin).
	if _, err := c.adminCall(sqe{opcode: adminCreateIOSQ, prp1: io.sq.Addr, cdw10: size | 1, cdw11: 1<<16 | pc}); err != nil {
		return fmt.Errorf("%s: create I/O submission queue 1 (%d entries): %w", c.name, depth, err)
	}
	return nil
}

// adminCall sends one admin command and waits for it. It always returns:
// the watchdog fails a command that outlives CommandTimeout.
func (c *Controller) adminCall(e sqe) (uint32, error) {
	cmd := &command{sqe: e, admin: true, reply: make(chan result, 1)}
	c.mu.Lock()
	if err := c.usableLocked(); err != nil {
		c.mu.Unlock()
		return 0, err
	}
	c.admin.backlog = append(c.admin.backlog, cmd)
	c.admin.issue(c.regs, c.opts.CommandTimeout)
	c.mu.Unlock()
	r := <-cmd.reply
	return r.dw0, r.err
}

// Info implements block.Device.
func (c *Controller) Info() block.Info { return c.info }

// Identity returns what Identify Controller reported.
func (c *Controller) Identity() Identity { return c.id }
