package mbimage

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Multiboot v1 constants.
const (
	Magic = 0x1BADB002
	// FlagPageAlign asks the loader to page-align boot modules.
	FlagPageAlign = 1 << 0
	// FlagMemInfo asks for mem_lower/mem_upper and the memory map.
	FlagMemInfo = 1 << 1
	// FlagAOutKludge says the address fields of the header are valid.
	FlagAOutKludge = 1 << 16

	// HeaderSize is the size of a header with the a.out kludge fields
	// (and without the video fields, which need flag bit 2).
	HeaderSize = 32
	// SearchLimit is how far into the file a loader looks for the header.
	SearchLimit = 8192
	// MinLoadAddr is the lowest address a loader will load to: below it
	// sit the real-mode IVT, BIOS data, the EBDA and the loader itself.
	MinLoadAddr = 1 << 20
)

// knownRequiredFlags are the low 16 flag bits this package understands.
// The spec says a loader must refuse an image that requires a feature
// (bits 0-15) it does not know, so ParseHeader does too.
const knownRequiredFlags = FlagPageAlign | FlagMemInfo | 1<<2

// Header is a Multiboot v1 header using the a.out kludge fields.
type Header struct {
	Flags       uint32
	HeaderAddr  uint32
	LoadAddr    uint32
	LoadEndAddr uint32
	BSSEndAddr  uint32
	EntryAddr   uint32
}

// Marshal encodes h, computing the checksum.
func (h Header) Marshal() []byte {
	b := make([]byte, HeaderSize)
	le := binary.LittleEndian
	le.PutUint32(b[0:], Magic)
	le.PutUint32(b[4:], h.Flags)
	le.PutUint32(b[8:], -(Magic + h.Flags)) // magic+flags+checksum == 0 mod 2^32
	le.PutUint32(b[12:], h.HeaderAddr)
	le.PutUint32(b[16:], h.LoadAddr)
	le.PutUint32(b[20:], h.LoadEndAddr)
	le.PutUint32(b[24:], h.BSSEndAddr)
	le.PutUint32(b[28:], h.EntryAddr)
	return b
}

// Errors from ParseHeader, wrapped with details.
var (
	ErrNoHeader      = errors.New("mbimage: no multiboot header")
	ErrHeaderTooFar  = errors.New("mbimage: multiboot header beyond the first 8192 bytes")
	ErrBadHeader     = errors.New("mbimage: inconsistent multiboot header")
	ErrFileTruncated = errors.New("mbimage: image file shorter than its header claims")
)

// ParseHeader finds and checks the multiboot header in an image file the
// way a loader does: the first 4-byte aligned magic with a valid checksum
// within SearchLimit bytes. It additionally insists on the a.out kludge,
// because that is the only kind of image this package builds, and checks
// that the address fields describe a loadable image. It returns the header
// and its file offset.
func ParseHeader(file []byte) (Header, int, error) {
	le := binary.LittleEndian
	off := -1
	for i := 0; i+12 <= len(file); i += 4 {
		magic, flags, sum := le.Uint32(file[i:]), le.Uint32(file[i+4:]), le.Uint32(file[i+8:])
		if magic == Magic && magic+flags+sum == 0 {
			off = i
			break
		}
	}
	switch {
	case off < 0:
		return Header{}, 0, ErrNoHeader
	case off+HeaderSize > SearchLimit:
		return Header{}, 0, fmt.Errorf("%w (at offset %d)", ErrHeaderTooFar, off)
	case off+HeaderSize > len(file):
		return Header{}, 0, fmt.Errorf("%w: header at offset %d cut short", ErrFileTruncated, off)
	}
	h := Header{
		Flags:       le.Uint32(file[off+4:]),
		HeaderAddr:  le.Uint32(file[off+12:]),
		LoadAddr:    le.Uint32(file[off+16:]),
		LoadEndAddr: le.Uint32(file[off+20:]),
		BSSEndAddr:  le.Uint32(file[off+24:]),
		EntryAddr:   le.Uint32(file[off+28:]),
	}
	if err := h.check(off, len(file)); err != nil {
		return Header{}, 0, err
	}
	return h, off, nil
}

// check validates the address fields of a header found at file offset off
// in a file of length n, using 64-bit arithmetic so nothing wraps.
func (h Header) check(off, n int) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadHeader, fmt.Sprintf(format, args...))
	}
	if h.Flags&FlagAOutKludge == 0 {
		return bad("flags %#x lack the a.out kludge bit", h.Flags)
	}
	if unknown := h.Flags & 0xffff &^ knownRequiredFlags; unknown != 0 {
		return bad("flags %#x require unknown features %#x", h.Flags, unknown)
	}
	if h.LoadAddr < MinLoadAddr {
		return bad("load_addr %#x below 1 MiB", h.LoadAddr)
	}
	if h.HeaderAddr < h.LoadAddr || uint64(h.HeaderAddr-h.LoadAddr) > uint64(off) {
		return bad("header_addr %#x inconsistent with load_addr %#x and file offset %d",
			h.HeaderAddr, h.LoadAddr, off)
	}
	// textOff is the file offset that is loaded at LoadAddr.
	textOff := uint64(off) - uint64(h.HeaderAddr-h.LoadAddr)
	loadEnd := uint64(h.LoadEndAddr)
	if loadEnd == 0 { // 0 means "to the end of the file"
		loadEnd = uint64(h.LoadAddr) + uint64(n) - textOff
	}
	if loadEnd <= uint64(h.LoadAddr) {
		return bad("load_end_addr %#x not above load_addr %#x", h.LoadEndAddr, h.LoadAddr)
	}
	if textOff+loadEnd-uint64(h.LoadAddr) > uint64(n) {
		return fmt.Errorf("%w: load range %#x-%#x needs %d bytes from offset %d, file has %d",
			ErrFileTruncated, h.LoadAddr, loadEnd, loadEnd-uint64(h.LoadAddr), textOff, n)
	}
	if h.BSSEndAddr != 0 && uint64(h.BSSEndAddr) < loadEnd {
		return bad("bss_end_addr %#x below load end %#x", h.BSSEndAddr, loadEnd)
	}
	if uint64(h.EntryAddr) < uint64(h.LoadAddr) || uint64(h.EntryAddr) >= loadEnd {
		return bad("entry_addr %#x outside loaded range %#x-%#x", h.EntryAddr, h.LoadAddr, loadEnd)
	}
	return nil
}
