package acpi

import (
	"fmt"
	"strings"
)

// Where a legacy BIOS may put the RSDP (ACPI 6.x section 5.2.5.1).
const (
	ebdaSegmentPtr = 0x40E   // BIOS data area word: EBDA segment
	ebdaScanLength = 1 << 10 // only the first 1 KiB of the EBDA
	biosAreaStart  = 0xE0000
	biosAreaEnd    = 0x100000

	rsdpSignature = "RSD PTR "
	rsdpV1Length  = 20 // bytes covered by the 1.0 checksum
	rsdpV2Length  = 36 // size of the 2.0+ structure
	// maxRSDPLength bounds the 2.0 Length field. Every revision so far
	// uses 36; allowing some growth keeps future firmware working
	// without letting a corrupt value request megabytes.
	maxRSDPLength = 1 << 10
)

// rsdp holds the fields of a verified RSDP (section 5.2.5.3).
type rsdp struct {
	revision uint8
	oemID    string
	rsdt     uint32
	xsdt     uint64 // 0 before revision 2
}

// FindRSDP looks for the RSDP the way a BIOS-booted OS must: on 16-byte
// boundaries in the first KiB of the Extended BIOS Data Area (whose
// segment is the word at physical 0x40E), then in 0xE0000-0xFFFFF. A
// candidate counts only if it passes the same checks Parse applies, so a
// stray "RSD PTR " string or a stale copy with a bad checksum is
// skipped. UEFI systems publish the RSDP in the EFI configuration table
// instead; pass that address to Parse directly.
func FindRSDP(mem Memory) (pa uint64, err error) {
	if mem == nil {
		return 0, ErrNotFound
	}
	if b, ok := read(mem, ebdaSegmentPtr, 2); ok {
		if base := uint64(le16(b, 0)) << 4; base != 0 {
			if pa, ok := scanRSDP(mem, base, base+ebdaScanLength); ok {
				return pa, nil
			}
		}
	}
	if pa, ok := scanRSDP(mem, biosAreaStart, biosAreaEnd); ok {
		return pa, nil
	}
	return 0, ErrNotFound
}

// scanRSDP returns the first valid RSDP starting in [start, end) on a
// 16-byte boundary. At most (end-start)/16 candidates are probed.
func scanRSDP(mem Memory, start, end uint64) (uint64, bool) {
	for pa := start; pa < end; pa += 16 {
		sig, ok := read(mem, pa, uint64(len(rsdpSignature)))
		if !ok || string(sig) != rsdpSignature {
			continue
		}
		if _, err := readRSDP(mem, pa); err == nil {
			return pa, true
		}
	}
	return 0, false
}

// readRSDP reads and verifies the RSDP at pa: signature, the checksum of
// the first 20 bytes and, for revision 2 and later, the Length field and
// the extended checksum over Length bytes.
func readRSDP(mem Memory, pa uint64) (rsdp, error) {
	fail := func(err error) (rsdp, error) {
		return rsdp{}, &TableError{Signature: "RSDP", Addr: pa, Err: err}
	}
	b, ok := read(mem, pa, rsdpV1Length)
	if !ok {
		return fail(ErrUnreadable)
	}
	if string(b[:8]) != rsdpSignature {
		return fail(fmt.Errorf("%w: found %q", ErrSignature, b[:8]))
	}
	if s := sum(b); s != 0 {
		return fail(fmt.Errorf("%w: first 20 bytes sum to %#02x", ErrChecksum, s))
	}
	r := rsdp{
		revision: b[15],
		oemID:    strings.TrimRight(string(b[9:15]), " \x00"),
		rsdt:     le32(b, 16),
	}
	if r.revision < 2 {
		return r, nil
	}
	ext, ok := read(mem, pa, rsdpV2Length)
	if !ok {
		return fail(ErrUnreadable)
	}
	length := le32(ext, 20)
	if length < rsdpV2Length || length > maxRSDPLength {
		return fail(fmt.Errorf("%w: length %d outside [%d, %d]", ErrLength, length, rsdpV2Length, maxRSDPLength))
	}
	full, ok := read(mem, pa, uint64(length))
	if !ok {
		return fail(ErrUnreadable)
	}
	if s := sum(full); s != 0 {
		return fail(fmt.Errorf("%w: extended checksum: %d bytes sum to %#02x", ErrChecksum, length, s))
	}
	r.xsdt = le64(ext, 24)
	return r, nil
}
