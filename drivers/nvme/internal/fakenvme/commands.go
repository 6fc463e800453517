package fakenvme

import (
	"encoding/binary"
	"fmt"
)

const (
	opDeleteSQ    = 0x00
	opCreateSQ    = 0x01
	opDeleteCQ    = 0x04
	opCreateCQ    = 0x05
	opIdentify    = 0x06
	opSetFeatures = 0x09

	opFlush = 0x00
	opWrite = 0x01
	opRead  = 0x02

	pageSize = 4096
)

// Status values the fake posts (SCT << 8 | SC, Base 2.0 §3.3.3.2.1).
const (
	stInvalidOpcode    = 0x001
	stInvalidField     = 0x002
	stDataTransfer     = 0x004
	stInvalidNamespace = 0x00b
	stLBAOutOfRange    = 0x080
	stCQInvalid        = 0x100
	stInvalidQID       = 0x101
	stInvalidQSize     = 0x102
	stInvalidVector    = 0x108
	dnr                = 1 << 14
)

type sqe struct {
	opcode                     uint8
	cid                        uint16
	nsid                       uint32
	prp1, prp2                 uint64
	cdw10, cdw11, cdw12, cdw13 uint32
}

func decodeSQE(b []byte) sqe {
	dw0 := binary.LittleEndian.Uint32(b)
	return sqe{
		opcode: uint8(dw0),
		cid:    uint16(dw0 >> 16),
		nsid:   binary.LittleEndian.Uint32(b[4:]),
		prp1:   binary.LittleEndian.Uint64(b[24:]),
		prp2:   binary.LittleEndian.Uint64(b[32:]),
		cdw10:  binary.LittleEndian.Uint32(b[40:]),
		cdw11:  binary.LittleEndian.Uint32(b[44:]),
		cdw12:  binary.LittleEndian.Uint32(b[48:]),
		cdw13:  binary.LittleEndian.Uint32(b[52:]),
	}
}

func (e entry) encode(b []byte, phase bool) {
	binary.LittleEndian.PutUint32(b[0:], e.dw0)
	binary.LittleEndian.PutUint32(b[4:], 0)
	binary.LittleEndian.PutUint16(b[8:], e.sqHead)
	binary.LittleEndian.PutUint16(b[10:], e.sqID)
	dw3 := uint32(e.cid) | uint32(e.status)<<17
	if phase {
		dw3 |= 1 << 16
	}
	binary.LittleEndian.PutUint32(b[12:], dw3)
}

// admin performs an admin command.
func (f *Controller) admin(c sqe) (dw0 uint32, status uint16) {
	switch c.opcode {
	case opIdentify:
		cns := uint8(c.cdw10)
		var data []byte
		switch {
		case cns == 1:
			data = f.identifyController()
		case cns == 0 && c.nsid == 1:
			data = f.identifyNamespace()
		case cns == 0:
			return 0, stInvalidNamespace | dnr
		default:
			return 0, stInvalidField | dnr
		}
		if f.faults.Identify != nil {
			f.faults.Identify(cns, data)
		}
		return 0, f.transfer(c, data, true)
	case opSetFeatures:
		if uint8(c.cdw10) != 0x07 {
			return 0, stInvalidField | dnr
		}
		nsq, ncq := min(c.cdw11&0xffff, 14), min(c.cdw11>>16, 14)
		return ncq<<16 | nsq, 0
	case opCreateCQ:
		return 0, f.createCQ(c)
	case opCreateSQ:
		return 0, f.createSQ(c)
	case opDeleteSQ:
		delete(f.sqs, uint16(c.cdw10))
		return 0, 0
	case opDeleteCQ:
		delete(f.cqs, uint16(c.cdw10))
		return 0, 0
	}
	return 0, stInvalidOpcode | dnr
}

func (f *Controller) queueArgs(c sqe, entrySize uint64) (qid, size uint16, status uint16) {
	qid, size = uint16(c.cdw10), uint16(c.cdw10>>16)+1
	switch {
	case qid == 0 || qid > 15:
		return 0, 0, stInvalidQID | dnr
	case size < 2 || size > f.cfg.MQES+1:
		return 0, 0, stInvalidQSize | dnr
	case c.cdw11&1 == 0 || c.prp1%pageSize != 0: // CAP.CQR: contiguous only
		return 0, 0, stInvalidField | dnr
	}
	if _, err := f.DMA.Slice(c.prp1, uint64(size)*entrySize); err != nil {
		f.stats.DMAFaults = append(f.stats.DMAFaults, fmt.Sprintf("queue %d memory: %v", qid, err))
		return 0, 0, stDataTransfer
	}
	return qid, size, 0
}

func (f *Controller) createCQ(c sqe) uint16 {
	qid, size, st := f.queueArgs(c, 16)
	switch {
	case st != 0:
		return st
	case f.cqs[qid] != nil:
		return stInvalidQID | dnr
	case c.cdw11>>16 != 0: // one interrupt vector
		return stInvalidVector | dnr
	}
	f.cqs[qid] = &compQueue{id: qid, base: c.prp1, size: size, phase: true, ien: c.cdw11&2 != 0}
	return 0
}

func (f *Controller) createSQ(c sqe) uint16 {
	qid, size, st := f.queueArgs(c, 64)
	switch {
	case st != 0:
		return st
	case f.sqs[qid] != nil:
		return stInvalidQID | dnr
	case f.cqs[uint16(c.cdw11>>16)] == nil || c.cdw11>>16 == 0:
		return stCQInvalid | dnr
	}
	f.sqs[qid] = &subQueue{id: qid, cqid: uint16(c.cdw11 >> 16), base: c.prp1, size: size}
	return 0
}

// io performs an NVM command.
func (f *Controller) io(c sqe) uint16 {
	if c.nsid != 1 {
		return stInvalidNamespace | dnr
	}
	switch c.opcode {
	case opFlush:
		return 0
	case opRead, opWrite:
	default:
		return stInvalidOpcode | dnr
	}
	lba := uint64(c.cdw11)<<32 | uint64(c.cdw10)
	blocks := uint64(c.cdw12&0xffff) + 1
	if lba >= f.cfg.Sectors || blocks > f.cfg.Sectors-lba {
		return stLBAOutOfRange | dnr
	}
	n := blocks << f.cfg.BlockShift
	if f.cfg.MDTS != 0 && n > pageSize<<f.cfg.MDTS {
		return stInvalidField | dnr
	}
	off := lba << f.cfg.BlockShift
	return f.transfer(c, f.disk[off:off+n], c.opcode == opRead)
}

// transfer moves data between the device buffer and host memory named
// by the command's PRPs (Base 2.0 §4.1.1).
func (f *Controller) transfer(c sqe, data []byte, toHost bool) uint16 {
	segs, err := f.prpSegments(c.prp1, c.prp2, uint64(len(data)))
	if err != nil {
		f.stats.DMAFaults = append(f.stats.DMAFaults, fmt.Sprintf("opcode %#x CID %d: %v", c.opcode, c.cid, err))
		return stDataTransfer
	}
	for _, s := range segs {
		if toHost {
			copy(s, data)
		} else {
			copy(data, s)
		}
		data = data[len(s):]
	}
	return 0
}

// prpSegments resolves PRP1/PRP2 for n bytes into host memory slices.
func (f *Controller) prpSegments(prp1, prp2, n uint64) ([][]byte, error) {
	if prp1&3 != 0 {
		return nil, fmt.Errorf("PRP1 %#x not dword aligned", prp1)
	}
	first := min(n, pageSize-prp1%pageSize)
	seg, err := f.DMA.Slice(prp1, first)
	if err != nil {
		return nil, fmt.Errorf("PRP1: %w", err)
	}
	segs := [][]byte{seg}
	rest := n - first
	if rest == 0 {
		return segs, nil
	}
	if rest <= pageSize {
		if prp2%pageSize != 0 {
			return nil, fmt.Errorf("PRP2 %#x has an offset", prp2)
		}
		seg, err := f.DMA.Slice(prp2, rest)
		if err != nil {
			return nil, fmt.Errorf("PRP2: %w", err)
		}
		return append(segs, seg), nil
	}
	f.stats.PRPListCommands++
	list := prp2
	if list&7 != 0 {
		return nil, fmt.Errorf("PRP list %#x not qword aligned", list)
	}
	for rest > 0 {
		slots := (pageSize - list%pageSize) / 8
		raw, err := f.DMA.Slice(list, slots*8)
		if err != nil {
			return nil, fmt.Errorf("PRP list: %w", err)
		}
		for i := uint64(0); i < slots && rest > 0; i++ {
			e := binary.LittleEndian.Uint64(raw[8*i:])
			if i == slots-1 && rest > pageSize {
				list = e // the last entry chains to the next list page
				break
			}
			if e%pageSize != 0 {
				return nil, fmt.Errorf("PRP list entry %d (%#x) has an offset", i, e)
			}
			take := min(rest, pageSize)
			seg, err := f.DMA.Slice(e, take)
			if err != nil {
				return nil, fmt.Errorf("PRP list entry %d: %w", i, err)
			}
			segs = append(segs, seg)
			rest -= take
		}
	}
	return segs, nil
}

func putASCII(b []byte, s string) {
	for i := range b {
		b[i] = ' '
	}
	copy(b, s)
}

// identifyController builds Identify Controller data (§5.17.2.1).
func (f *Controller) identifyController() []byte {
	b := make([]byte, 4096)
	binary.LittleEndian.PutUint16(b[0:], 0x1b36)
	putASCII(b[4:24], f.cfg.Serial)
	putASCII(b[24:64], f.cfg.Model)
	putASCII(b[64:72], f.cfg.Firmware)
	b[77] = f.cfg.MDTS
	binary.LittleEndian.PutUint32(b[80:], 0x00020000)
	b[512], b[513] = 0x66, 0x44
	binary.LittleEndian.PutUint32(b[516:], 1)
	b[525] = 1
	return b
}

// identifyNamespace builds Identify Namespace data for namespace 1 with
// one LBA format.
func (f *Controller) identifyNamespace() []byte {
	b := make([]byte, 4096)
	for _, off := range []int{0, 8, 16} { // NSZE, NCAP, NUSE
		binary.LittleEndian.PutUint64(b[off:], f.cfg.Sectors)
	}
	binary.LittleEndian.PutUint32(b[128:], uint32(f.cfg.Metadata)|uint32(f.cfg.BlockShift)<<16)
	return b
}
