package nvme

import (
	"fmt"
	"time"

	"valence.dev/drivers/lib/dev"
)

// Controller properties of a PCIe controller: byte offsets in BAR0
// (NVM Express Base Specification 2.0 §3.1.3).
const (
	regCAP  = 0x00 // Controller Capabilities, 64 bits (§3.1.3.1)
	regVS   = 0x08 // Version (§3.1.3.2)
	regCC   = 0x14 // Controller Configuration (§3.1.3.5)
	regCSTS = 0x1c // Controller Status (§3.1.3.6)
	regAQA  = 0x24 // Admin Queue Attributes (§3.1.3.8)
	regASQ  = 0x28 // Admin Submission Queue Base Address, 64 bits (§3.1.3.9)
	regACQ  = 0x30 // Admin Completion Queue Base Address, 64 bits (§3.1.3.10)
	// The doorbells start at 1000h: SQ y Tail Doorbell at
	// 1000h + (2y)×(4 << CAP.DSTRD), CQ y Head Doorbell at
	// 1000h + (2y+1)×(4 << CAP.DSTRD) (Base 2.0 §3.1.3; NVMe over
	// PCIe Transport Specification 1.0 §3.1.2).
	regDoorbells = 0x1000
)

// Fields of CC (§3.1.3.5).
const (
	ccEN       = 1 << 0
	ccCSSNVM   = 0 << 4 // CSS 000b: NVM Command Set
	ccMPS4K    = 0 << 7 // MPS 0: 2^(12+0) = 4 KiB memory pages
	ccAMSRR    = 0 << 11
	ccSHNMask  = 3 << 14
	ccSHNormal = 1 << 14
	ccIOSQES   = 6 << 16 // 2^6 = 64-byte submission queue entries
	ccIOCQES   = 4 << 20 // 2^4 = 16-byte completion queue entries
)

// Fields of CSTS (§3.1.3.6).
const (
	cstsRDY          = 1 << 0
	cstsCFS          = 1 << 1
	cstsSHSTMask     = 3 << 2
	cstsSHSTComplete = 2 << 2
	cstsGone         = 0xffffffff // what a PCIe read of a removed device returns
)

// pageSize is the host memory page size the driver configures (CC.MPS 0).
const pageSize = 4096

// capabilities is CAP decoded (§3.1.3.1).
type capabilities struct {
	raw     uint64
	mqes    uint32        // entries an I/O queue may have (MQES+1)
	cqr     bool          // queues must be physically contiguous
	timeout time.Duration // TO: worst case for CSTS.RDY to follow CC.EN
	dstrd   uint8         // doorbell stride: 4 << DSTRD bytes
	cssNVM  bool          // CSS bit 0: the NVM Command Set
	mpsMin  uint8         // 2^(12+MPSMIN) bytes
	mpsMax  uint8
}

func decodeCAP(v uint64) capabilities {
	return capabilities{
		raw:     v,
		mqes:    uint32(v&0xffff) + 1,
		cqr:     v>>16&1 != 0,
		timeout: time.Duration(v>>24&0xff) * 500 * time.Millisecond,
		dstrd:   uint8(v >> 32 & 0xf),
		cssNVM:  v>>37&1 != 0,
		mpsMin:  uint8(v >> 48 & 0xf),
		mpsMax:  uint8(v >> 52 & 0xf),
	}
}

// check refuses what the driver cannot work with, naming the CAP field.
func (c capabilities) check() error {
	switch {
	case c.raw == ^uint64(0):
		return fmt.Errorf("CAP reads all ones (%#x): device gone or BAR not mapped: %w", c.raw, ErrDevice)
	case c.timeout == 0:
		return fmt.Errorf("CAP.TO is 0 (CAP=%#x): no ready timeout to wait by: %w", c.raw, ErrDevice)
	case c.mqes < 2:
		return fmt.Errorf("CAP.MQES is 0 (CAP=%#x): a queue needs at least 2 entries: %w", c.raw, ErrDevice)
	case !c.cssNVM:
		return fmt.Errorf("CAP.CSS %#x lacks the NVM Command Set: %w", c.raw>>37&0xff, ErrUnsupported)
	case c.mpsMin > 0 || c.mpsMax < c.mpsMin:
		return fmt.Errorf("CAP.MPSMIN %d / MPSMAX %d do not allow 4 KiB pages: %w", c.mpsMin, c.mpsMax, ErrUnsupported)
	}
	return nil
}

// doorbell returns the offset of queue qid's SQ tail (cq false) or CQ head
// (cq true) doorbell, or an error if it lies outside the register window.
func (c capabilities) doorbell(regs dev.Regs, qid uint16, cq bool) (uint64, error) {
	idx := 2 * uint64(qid)
	if cq {
		idx++
	}
	off := regDoorbells + idx*(4<<c.dstrd)
	if off+4 > regs.Len() {
		return 0, fmt.Errorf("CAP.DSTRD %d puts queue %d's doorbell at %#x, outside the %#x-byte BAR: %w",
			c.dstrd, qid, off, regs.Len(), ErrDevice)
	}
	return off, nil
}

// waitStatus polls CSTS until ready(csts) holds or timeout passes. what
// names the awaited condition for the error. CSTS.CFS ends the wait at
// once unless allowCFS.
func (c *Controller) waitStatus(what string, timeout time.Duration, allowCFS bool, ready func(uint32) bool) error {
	deadline := time.Now().Add(timeout)
	pause := 50 * time.Microsecond
	for {
		csts := c.regs.Read32(regCSTS)
		switch {
		case csts == cstsGone:
			return fmt.Errorf("%s: waiting for %s: CSTS reads %#x: device gone: %w", c.name, what, csts, ErrDevice)
		case ready(csts):
			return nil
		case csts&cstsCFS != 0 && !allowCFS:
			return fmt.Errorf("%s: waiting for %s: CSTS.CFS set (CSTS=%#x): controller fatal status: %w", c.name, what, csts, ErrDevice)
		case time.Now().After(deadline):
			return fmt.Errorf("%s: %s not reached within %v (CSTS=%#x): %w", c.name, what, timeout, csts, dev.ErrTimeout)
		}
		time.Sleep(pause)
		pause = min(2*pause, 10*time.Millisecond)
	}
}

// write64 writes a 64-bit property as two 32-bit halves, low first, which
// every PCIe controller accepts (dev.Regs doc).
func write64(r dev.Regs, off, v uint64) {
	r.Write32(off, uint32(v))
	r.Write32(off+4, uint32(v>>32))
}
