package nvme

import (
	"encoding/binary"
	"fmt"
)

// Opcodes the driver sends.
const (
	// Admin commands (Base 2.0 §5).
	adminCreateIOSQ   = 0x01 // §5.5
	adminCreateIOCQ   = 0x05 // §5.4
	adminIdentify     = 0x06 // §5.17
	adminSetFeatures  = 0x09 // §5.27
	featNumberOfQueue = 0x07 // Number of Queues (§5.27.1)

	// I/O commands of the NVM Command Set (Base 2.0 §7.1 for Flush; NVM
	// Command Set Specification 1.0 §3.2 for Read and Write).
	ioFlush = 0x00
	ioWrite = 0x01
	ioRead  = 0x02
)

// Identify CNS values (§5.17.1, Figure 273).
const (
	cnsNamespace  = 0x00
	cnsController = 0x01
)

const (
	sqeSize = 64 // CC.IOSQES 6
	cqeSize = 16 // CC.IOCQES 4
)

// sqe is a submission queue entry before it gets its command identifier
// (§3.3.3.1): the fields the driver uses.
type sqe struct {
	opcode uint8
	nsid   uint32
	prp1   uint64
	prp2   uint64
	cdw10  uint32
	cdw11  uint32
	cdw12  uint32
}

// encode writes the entry with identifier cid into b (64 bytes). Command
// Dword 0: opcode in bits 7:0, FUSE 9:8 and PSDT 15:14 zero (not fused,
// PRPs), CID in 31:16.
func (e *sqe) encode(b []byte, cid uint16) {
	clear(b[:sqeSize])
	binary.LittleEndian.PutUint32(b[0:], uint32(e.opcode)|uint32(cid)<<16)
	binary.LittleEndian.PutUint32(b[4:], e.nsid)
	binary.LittleEndian.PutUint64(b[24:], e.prp1)
	binary.LittleEndian.PutUint64(b[32:], e.prp2)
	binary.LittleEndian.PutUint32(b[40:], e.cdw10)
	binary.LittleEndian.PutUint32(b[44:], e.cdw11)
	binary.LittleEndian.PutUint32(b[48:], e.cdw12)
}

// cqe is a completion queue entry (§3.3.3.2, Figures 89-91).
type cqe struct {
	dw0    uint32 // command specific
	sqHead uint16 // SQHD: how far the device has consumed the SQ
	sqID   uint16
	cid    uint16
	phase  bool
	status Status
}

func decodeCQE(b []byte) cqe {
	dw3 := binary.LittleEndian.Uint32(b[12:])
	return cqe{
		dw0:    binary.LittleEndian.Uint32(b[0:]),
		sqHead: binary.LittleEndian.Uint16(b[8:]),
		sqID:   binary.LittleEndian.Uint16(b[10:]),
		cid:    uint16(dw3),
		phase:  dw3>>16&1 != 0,
		status: Status(dw3 >> 17),
	}
}

// opName names an opcode for errors; admin says which set it is from.
func opName(admin bool, op uint8) string {
	if admin {
		switch op {
		case adminCreateIOSQ:
			return "Create I/O Submission Queue"
		case adminCreateIOCQ:
			return "Create I/O Completion Queue"
		case adminIdentify:
			return "Identify"
		case adminSetFeatures:
			return "Set Features"
		}
		return fmt.Sprintf("admin opcode %#02x", op)
	}
	switch op {
	case ioFlush:
		return "Flush"
	case ioWrite:
		return "Write"
	case ioRead:
		return "Read"
	}
	return fmt.Sprintf("I/O opcode %#02x", op)
}
