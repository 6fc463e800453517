// Package fakenvme is a fake NVMe controller for hosted tests of the
// driver: the register semantics of Base 2.0 §3.1.3 (CAP, VS, CC, CSTS,
// AQA, ASQ, ACQ, doorbells), admin commands (Identify, Set Features
// Number of Queues, Create/Delete I/O queues) and NVM Read, Write and
// Flush on an in-memory disk, all through devtest's registers, DMA and
// interrupt. Commands are fetched when an SQ tail doorbell is written;
// SQEs, PRP lists and data are reached by bus address through
// devtest.DMA.Slice, so a bad address is a recorded DMA fault. Faults
// can be injected: a status, a delay, a dropped, duplicated or garbled
// completion, a controller that never gets ready or never shuts down.
//
// Completion queue entries are written only while the driver is not
// serving the interrupt (between IRQ.Wait and IRQ.Ack the fake holds
// them back), which is how a real device's writes look to the driver,
// and keeps the race detector meaningful: every byte the fake writes is
// ordered before the driver reads it.
package fakenvme

import (
	"context"
	"fmt"
	"math/rand"
	"sync"
	"time"

	"valence.dev/drivers/lib/dev"
	"valence.dev/drivers/lib/devtest"
)

// Register offsets (Base 2.0 §3.1.3).
const (
	regCAP       = 0x00
	regVS        = 0x08
	regCC        = 0x14
	regCSTS      = 0x1c
	regAQA       = 0x24
	regASQ       = 0x28
	regACQ       = 0x30
	regDoorbells = 0x1000
)

// Config describes the fake controller and its namespace 1. Zero fields
// take the defaults noted.
type Config struct {
	Model, Serial, Firmware string
	Sectors                 uint64 // NSZE; default 8192
	BlockShift              uint8  // LBADS; default 9 (512 bytes)
	Metadata                uint16 // LBAF0.MS
	MDTS                    uint8
	MQES                    uint16 // CAP.MQES, 0's based; default 1023
	DSTRD                   uint8
	TO                      uint8  // CAP.TO in 500 ms units; default 2
	RegsSize                uint64 // BAR size; default room for queues 0 and 1
	// EditCAP, if set, changes CAP as the fake reports it.
	EditCAP func(uint64) uint64
	// Jitter delays each I/O completion by a random time up to Jitter, so
	// commands complete out of order.
	Jitter time.Duration
	Seed   int64
}

// Faults are injected misbehaviour; change them with SetFaults.
type Faults struct {
	NeverReady    bool // CSTS.RDY never follows CC.EN=1
	FatalOnEnable bool // CSTS.CFS instead of RDY
	NeverShutdown bool // CSTS.SHST stays "in progress"
	NeverStop     bool // CSTS.RDY stays 1 after CC.EN=0
	// Identify may change Identify data (cns 0 or 1) before it is sent.
	Identify func(cns uint8, data []byte)
	// Command, if set, decides how each fetched command is handled.
	Command func(Command) Action
}

// Command is a fetched command as Faults.Command sees it.
type Command struct {
	Queue  uint16
	Opcode uint8
	CID    uint16
	NSID   uint32
	LBA    uint64 // Read and Write
	Blocks uint32
}

// Action is what the fake does with a command instead of the usual.
type Action struct {
	Status    uint16        // non-zero: complete with this status (SCT<<8|SC), moving no data
	Delay     time.Duration // complete this much later
	Drop      bool          // never complete
	CID       uint16        // with SetCID: post this command identifier
	SetCID    bool
	BadSQHead bool // post an SQ head pointer beyond the queue
	Duplicate bool // post the completion twice
}

// Stats is what the fake observed.
type Stats struct {
	Commands         int // fetched, all queues
	MaxInFlight      int // most I/O commands fetched and not yet completed
	PRPListCommands  int // commands whose data needed a PRP list
	DMAFaults        []string
	InvalidDoorbells int
	Shutdowns        int
}

// Controller is the fake device. Regs, DMA and IRQ are what the driver
// is given.
type Controller struct {
	Regs *devtest.Regs
	DMA  *devtest.DMA
	IRQ  *IRQ

	cfg  Config
	line *devtest.IRQ
	kick chan struct{}
	quit chan struct{}
	wg   sync.WaitGroup

	mu        sync.Mutex
	faults    Faults
	rng       *rand.Rand
	disk      []byte
	gen       int // bumped by every reset: delayed work of an older one is dropped
	cc        uint32
	inService bool // the driver is between IRQ.Wait and IRQ.Ack
	sqs       map[uint16]*subQueue
	cqs       map[uint16]*compQueue
	inFlight  int
	stats     Stats
	closed    bool
}

type subQueue struct {
	id, cqid   uint16
	base       uint64
	size       uint16
	head, tail uint16
}

type compQueue struct {
	id         uint16
	base       uint64
	size       uint16
	head, tail uint16
	phase      bool
	ien        bool
	pending    []entry
}

type entry struct {
	dw0    uint32
	sqHead uint16
	sqID   uint16
	cid    uint16
	status uint16
}

// New returns a fake controller, disabled, with a zeroed disk.
func New(cfg Config) *Controller {
	if cfg.Sectors == 0 {
		cfg.Sectors = 8192
	}
	if cfg.BlockShift == 0 {
		cfg.BlockShift = 9
	}
	if cfg.MQES == 0 {
		cfg.MQES = 1023
	}
	if cfg.TO == 0 {
		cfg.TO = 2
	}
	if cfg.RegsSize == 0 {
		cfg.RegsSize = regDoorbells + 4*(4<<cfg.DSTRD)
	}
	f := &Controller{
		Regs: devtest.NewRegs(cfg.RegsSize),
		DMA:  devtest.NewDMA(),
		cfg:  cfg,
		line: devtest.NewIRQ(),
		kick: make(chan struct{}, 1),
		quit: make(chan struct{}),
		rng:  rand.New(rand.NewSource(cfg.Seed)),
		disk: make([]byte, cfg.Sectors<<cfg.BlockShift),
		sqs:  map[uint16]*subQueue{},
		cqs:  map[uint16]*compQueue{},
	}
	f.IRQ = &IRQ{f: f}
	// CAP: MQES, CQR (1), TO, DSTRD, CSS bit 0 (NVM), MPSMIN 0, MPSMAX 0.
	capv := uint64(cfg.MQES) | 1<<16 | uint64(cfg.TO)<<24 | uint64(cfg.DSTRD&0xf)<<32 | 1<<37
	if cfg.EditCAP != nil {
		capv = cfg.EditCAP(capv)
	}
	f.Regs.Store(regCAP, 8, capv)
	f.Regs.Store(regVS, 4, 0x00020000)
	f.Regs.Write = f.written
	f.wg.Add(1)
	go f.work()
	return f
}

// Close stops the fake's goroutine; delayed completions are dropped.
func (f *Controller) Close() {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	f.closed = true
	f.gen++
	f.mu.Unlock()
	close(f.quit)
	f.wg.Wait()
}

// SetFaults replaces the injected faults.
func (f *Controller) SetFaults(fl Faults) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = fl
}

// Stats returns what the fake observed so far.
func (f *Controller) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.stats
	s.DMAFaults = append([]string(nil), s.DMAFaults...)
	return s
}

// Disk returns a copy of the disk's bytes from off, n long.
func (f *Controller) Disk(off, n uint64) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]byte(nil), f.disk[off:off+n]...)
}

// IRQ is the fake's interrupt: a devtest.IRQ that also tells the fake
// when the driver is serving it.
type IRQ struct{ f *Controller }

// Wait implements dev.IRQ.
func (q *IRQ) Wait(ctx context.Context) error {
	if err := q.f.line.Wait(ctx); err != nil {
		return err
	}
	q.f.mu.Lock()
	q.f.inService = true
	q.f.mu.Unlock()
	return nil
}

// Ack implements dev.IRQ: completions held back are posted now.
func (q *IRQ) Ack() error {
	err := q.f.line.Ack()
	q.f.mu.Lock()
	q.f.inService = false
	q.f.flushLocked()
	q.f.mu.Unlock()
	return err
}

var _ dev.IRQ = (*IRQ)(nil)

// written is the register window's write hook.
func (f *Controller) written(off uint64, width int, v uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case off == regCC && width == 4:
		f.setCC(uint32(v))
	case off >= regDoorbells && width == 4:
		stride := uint64(4) << f.cfg.DSTRD
		rel := off - regDoorbells
		if rel%stride != 0 {
			f.stats.InvalidDoorbells++
			return
		}
		idx := rel / stride
		f.doorbell(uint16(idx/2), idx%2 == 1, uint16(v))
	}
}

// setCC acts on a CC write (§3.1.3.5): enabling, resetting, shutdown.
func (f *Controller) setCC(v uint32) {
	old := f.cc
	f.cc = v
	const en, shn = 1, 3 << 14
	switch {
	case old&en == 0 && v&en != 0:
		f.enable(v)
	case old&en != 0 && v&en == 0:
		f.reset()
	}
	if v&en != 0 && old&shn == 0 && v&shn != 0 {
		f.stats.Shutdowns++
		csts := uint32(f.Regs.Load(regCSTS, 4))
		if f.faults.NeverShutdown {
			f.Regs.Store(regCSTS, 4, uint64(csts&^0xc|1<<2)) // SHST 01b: occurring
		} else {
			f.Regs.Store(regCSTS, 4, uint64(csts&^0xc|2<<2)) // SHST 10b: complete
		}
	}
}

func (f *Controller) enable(cc uint32) {
	f.gen++
	aqa := uint32(f.Regs.Load(regAQA, 4))
	f.sqs = map[uint16]*subQueue{0: {id: 0, cqid: 0, base: f.Regs.Load(regASQ, 8), size: uint16(aqa&0xfff) + 1}}
	f.cqs = map[uint16]*compQueue{0: {id: 0, base: f.Regs.Load(regACQ, 8), size: uint16(aqa>>16&0xfff) + 1, phase: true, ien: true}}
	f.inFlight = 0
	switch {
	case f.faults.NeverReady:
	case f.faults.FatalOnEnable || cc>>16&0xf != 6 || cc>>20&0xf != 4 || cc>>7&0xf != 0:
		f.Regs.Store(regCSTS, 4, 1<<1) // CFS
	default:
		f.Regs.Store(regCSTS, 4, 1) // RDY
	}
}

func (f *Controller) reset() {
	f.gen++
	f.sqs = map[uint16]*subQueue{}
	f.cqs = map[uint16]*compQueue{}
	f.inFlight = 0
	if f.faults.NeverStop {
		return
	}
	f.Regs.Store(regCSTS, 4, 0)
}

func (f *Controller) doorbell(qid uint16, cq bool, v uint16) {
	if cq {
		q := f.cqs[qid]
		if q == nil || v >= q.size {
			f.stats.InvalidDoorbells++
			return
		}
		q.head = v
		f.flushLocked()
		return
	}
	q := f.sqs[qid]
	if q == nil || v >= q.size {
		f.stats.InvalidDoorbells++
		return
	}
	q.tail = v
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// work fetches submitted commands when a tail doorbell is written.
func (f *Controller) work() {
	defer f.wg.Done()
	for {
		select {
		case <-f.quit:
			return
		case <-f.kick:
		}
		f.mu.Lock()
		f.fetchLocked()
		f.mu.Unlock()
	}
}

func (f *Controller) fetchLocked() {
	for qid := range uint16(16) {
		q := f.sqs[qid]
		for q != nil && q.head != q.tail {
			raw, err := f.DMA.Slice(q.base+uint64(q.head)*64, 64)
			q.head = (q.head + 1) % q.size
			if err != nil {
				f.stats.DMAFaults = append(f.stats.DMAFaults, fmt.Sprintf("SQ %d entry: %v", qid, err))
				continue
			}
			f.stats.Commands++
			f.start(q, decodeSQE(raw))
		}
	}
}

// start runs or schedules one command.
func (f *Controller) start(q *subQueue, c sqe) {
	cmd := Command{Queue: q.id, Opcode: c.opcode, CID: c.cid, NSID: c.nsid}
	if q.id != 0 && (c.opcode == opRead || c.opcode == opWrite) {
		cmd.LBA, cmd.Blocks = uint64(c.cdw11)<<32|uint64(c.cdw10), c.cdw12&0xffff+1
	}
	var act Action
	if f.faults.Command != nil {
		act = f.faults.Command(cmd)
	}
	if q.id != 0 {
		f.inFlight++
		f.stats.MaxInFlight = max(f.stats.MaxInFlight, f.inFlight)
	}
	if act.Drop {
		return
	}
	delay := act.Delay
	if q.id != 0 && f.cfg.Jitter > 0 {
		delay += time.Duration(f.rng.Int63n(int64(f.cfg.Jitter)))
	}
	if delay <= 0 {
		f.complete(q, c, act)
		return
	}
	gen := f.gen
	time.AfterFunc(delay, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.gen == gen && f.sqs[q.id] == q {
			f.complete(q, c, act)
		}
	})
}

// complete performs a command and posts its completion.
func (f *Controller) complete(q *subQueue, c sqe, act Action) {
	var dw0 uint32
	status := act.Status
	if status == 0 {
		if q.id == 0 {
			dw0, status = f.admin(c)
		} else {
			status = f.io(c)
		}
	}
	if q.id != 0 {
		f.inFlight--
	}
	e := entry{dw0: dw0, sqHead: q.head, sqID: q.id, cid: c.cid, status: status}
	if act.SetCID {
		e.cid = act.CID
	}
	if act.BadSQHead {
		e.sqHead = q.size + 3
	}
	cq := f.cqs[q.cqid]
	if cq == nil {
		return
	}
	cq.pending = append(cq.pending, e)
	if act.Duplicate {
		cq.pending = append(cq.pending, e)
	}
	f.flushLocked()
}

// flushLocked posts held-back completions while the driver is not
// serving the interrupt and the queues have room, then raises it.
func (f *Controller) flushLocked() {
	if f.inService {
		return
	}
	raise := false
	for _, cq := range f.cqs {
		for len(cq.pending) > 0 && (cq.tail+1)%cq.size != cq.head {
			e := cq.pending[0]
			cq.pending = cq.pending[1:]
			b, err := f.DMA.Slice(cq.base+uint64(cq.tail)*16, 16)
			if err != nil {
				f.stats.DMAFaults = append(f.stats.DMAFaults, fmt.Sprintf("CQ %d entry: %v", cq.id, err))
				continue
			}
			e.encode(b, cq.phase)
			cq.tail++
			if cq.tail == cq.size {
				cq.tail, cq.phase = 0, !cq.phase
			}
			raise = raise || cq.ien
		}
	}
	if raise {
		f.line.Raise()
	}
}
