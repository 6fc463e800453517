package nvme

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// identifySize is the size of every Identify data structure (§5.17).
const identifySize = 4096

// Identity is what the Identify Controller data structure (CNS 01h,
// Base 2.0 §5.17.2.1) says about the controller, checked.
type Identity struct {
	VendorID     uint16
	Serial       string // SN, trimmed; non-printable bytes become '?'
	Model        string // MN
	Firmware     string // FR
	MDTS         uint8  // maximum data transfer: 2^MDTS × CAP.MPSMIN pages; 0: no limit
	ControllerID uint16
	Version      uint32 // VER: major << 16 | minor << 8 | tertiary
	RTD3Entry    uint32 // RTD3E: shutdown latency in µs; 0: not reported
	Namespaces   uint32 // NN: largest namespace ID
	WriteCache   bool   // VWC bit 0: a volatile write cache is present
}

// parseIdentifyController checks and decodes Identify Controller data.
// It never trusts the device: a short buffer or a value the driver cannot
// work with is an error naming the field.
func parseIdentifyController(b []byte) (Identity, error) {
	if len(b) < identifySize {
		return Identity{}, fmt.Errorf("identify controller: %d bytes, want %d: %w", len(b), identifySize, ErrDevice)
	}
	id := Identity{
		VendorID:     binary.LittleEndian.Uint16(b[0:]),
		Serial:       asciiField(b[4:24]),
		Model:        asciiField(b[24:64]),
		Firmware:     asciiField(b[64:72]),
		MDTS:         b[77],
		ControllerID: binary.LittleEndian.Uint16(b[78:]),
		Version:      binary.LittleEndian.Uint32(b[80:]),
		RTD3Entry:    binary.LittleEndian.Uint32(b[88:]),
		Namespaces:   binary.LittleEndian.Uint32(b[516:]),
		WriteCache:   b[525]&1 != 0,
	}
	// SQES and CQES: bits 3:0 the required (smallest) entry size, bits
	// 7:4 the largest, as powers of two. CC.IOSQES 6 and IOCQES 4 must
	// lie between.
	if sqes := b[512]; sqes&0xf > 6 || sqes>>4 < 6 {
		return Identity{}, fmt.Errorf("identify controller: SQES %#02x does not allow 64-byte entries: %w", sqes, ErrDevice)
	}
	if cqes := b[513]; cqes&0xf > 4 || cqes>>4 < 4 {
		return Identity{}, fmt.Errorf("identify controller: CQES %#02x does not allow 16-byte entries: %w", cqes, ErrDevice)
	}
	if id.Namespaces == 0 {
		return Identity{}, fmt.Errorf("identify controller: NN is 0: no namespaces: %w", ErrDevice)
	}
	return id, nil
}

// maxTransfer returns the largest transfer in bytes MDTS allows, capped
// at limit (MDTS 0 means no limit). Units are CAP.MPSMIN pages, which
// capabilities.check has made 4 KiB.
func (id Identity) maxTransfer(limit uint64) uint64 {
	if id.MDTS == 0 || id.MDTS >= 32 {
		return limit
	}
	return min(uint64(pageSize)<<id.MDTS, limit)
}

// asciiField turns a space-padded ASCII field into a string.
func asciiField(b []byte) string {
	s := []byte(strings.TrimRight(string(b), " \x00"))
	for i, c := range s {
		if c < 0x20 || c > 0x7e {
			s[i] = '?'
		}
	}
	return strings.TrimSpace(string(s))
}

// namespace is what the driver takes from Identify Namespace (CNS 00h;
// NVM Command Set Specification 1.0 §4.1.5.1).
type namespace struct {
	sectors    uint64 // NSZE
	sectorSize uint32 // 2^LBADS of the format in use
	format     int    // index into the LBA Format list
}

// parseIdentifyNamespace checks and decodes Identify Namespace data:
// NSZE must be non-zero, FLBAS must select a format within NLBAF whose
// LBA data size is a power of two from 512 bytes to 64 KiB, and that
// format must carry no metadata (the driver sends no metadata pointer).
func parseIdentifyNamespace(b []byte) (namespace, error) {
	if len(b) < identifySize {
		return namespace{}, fmt.Errorf("identify namespace: %d bytes, want %d: %w", len(b), identifySize, ErrDevice)
	}
	nsze := binary.LittleEndian.Uint64(b[0:])
	if nsze == 0 {
		return namespace{}, fmt.Errorf("identify namespace: NSZE is 0 (inactive namespace or no capacity): %w", ErrDevice)
	}
	nlbaf := int(b[25]) // 0's based
	flbas := b[26]
	// FLBAS bits 3:0 hold the low four bits of the format index, bits
	// 6:5 the high two (Base 2.0 extends the list to 64 formats).
	format := int(flbas&0xf) | int(flbas>>5&3)<<4
	if nlbaf > 63 {
		return namespace{}, fmt.Errorf("identify namespace: NLBAF %d exceeds 63: %w", nlbaf, ErrDevice)
	}
	if format > nlbaf {
		return namespace{}, fmt.Errorf("identify namespace: FLBAS %#02x selects LBA format %d beyond NLBAF %d: %w",
			flbas, format, nlbaf, ErrDevice)
	}
	lbaf := binary.LittleEndian.Uint32(b[128+4*format:])
	ms := uint16(lbaf)
	lbads := uint8(lbaf >> 16)
	if lbads < 9 || lbads > 16 {
		return namespace{}, fmt.Errorf("identify namespace: LBAF%d.LBADS %d: LBA data size 2^%d not 512 B..64 KiB: %w",
			format, lbads, lbads, ErrDevice)
	}
	if ms != 0 {
		return namespace{}, fmt.Errorf("identify namespace: LBAF%d.MS %d: metadata per block is not driven: %w",
			format, ms, ErrUnsupported)
	}
	return namespace{sectors: nsze, sectorSize: 1 << lbads, format: format}, nil
}
