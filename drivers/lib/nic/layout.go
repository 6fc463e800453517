package nic

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"
)

// The shared memory's layout (doc.go draws it). Offsets are in bytes from
// the start of the memory object; header words are uint32 in the host's
// byte order (little-endian: Valence runs on amd64), each index on its own
// 64-byte cache line so that the two sides do not write the same line.
const (
	OffTxHead  = 0   // client: transmit frames produced (free-running)
	OffTxTail  = 64  // driver: transmit frames consumed
	OffRxHead  = 128 // driver: receive frames produced
	OffRxTail  = 192 // client: receive frames consumed
	OffFlags   = 256 // driver: FlagDetached
	OffSlots   = 260 // driver: the number of slots per ring, as in AttachReply
	HeaderSize = 4096
	SlotSize   = 2048 // a uint16 length, then the frame
	SlotHeader = 2
)

// FlagDetached, in the flags word, says the driver no longer serves this
// memory: the client broke the ring protocol, detached, or was replaced by
// a newer Attach.
const FlagDetached = 1

// Frame sizes: an Ethernet frame without its FCS, from a bare header to a
// 1500-byte payload.
const (
	MinFrame = 14
	MaxFrame = 1514
	MTU      = MaxFrame - MinFrame
)

// DefaultSlots is how many slots the drivers give each ring.
const DefaultSlots = 256

// MaxSlots bounds Slots so that the memory stays small (8 MiB + header).
const MaxSlots = 2048

// MemSize returns the size of the shared memory for rings of slots slots.
func MemSize(slots uint32) uint64 { return HeaderSize + 2*uint64(slots)*SlotSize }

// The ring errors. A peer that breaks the protocol gets an error wrapping
// ErrProtocol; the ring is then dead and every later call returns it.
var (
	ErrProtocol  = errors.New("nic: ring protocol violated")
	ErrFull      = errors.New("nic: ring full")
	ErrFrameSize = fmt.Errorf("nic: frame size outside %d-%d bytes", MinFrame, MaxFrame)
	ErrDetached  = errors.New("nic: detached")
)

// shared is the ring memory as either side sees it: accessors over a
// []byte whose size was checked against slots once.
type shared struct {
	mem   []byte
	slots uint32
}

func newShared(mem []byte, slots uint32) (shared, error) {
	if slots == 0 || slots > MaxSlots || slots&(slots-1) != 0 {
		return shared{}, fmt.Errorf("nic: %d slots: want a power of two up to %d", slots, MaxSlots)
	}
	if uint64(len(mem)) < MemSize(slots) {
		return shared{}, fmt.Errorf("nic: %d bytes of ring memory, %d slots need %d", len(mem), slots, MemSize(slots))
	}
	if uintptr(unsafe.Pointer(unsafe.SliceData(mem)))%8 != 0 {
		return shared{}, errors.New("nic: ring memory is not 8-byte aligned")
	}
	return shared{mem: mem, slots: slots}, nil
}

// word returns the header word at off as a *uint32 for sync/atomic. off
// is one of the Off constants, so it is in range (newShared checked the
// size) and 4-byte aligned (newShared checked the base). This is the
// package's only unsafe conversion.
func (s shared) word(off int) *uint32 {
	return (*uint32)(unsafe.Pointer(&s.mem[off : off+4][0]))
}

func (s shared) load(off int) uint32     { return atomic.LoadUint32(s.word(off)) }
func (s shared) store(off int, v uint32) { atomic.StoreUint32(s.word(off), v) }

// txSlot and rxSlot return slot idx mod slots of each ring. slots is a
// power of two, so idx mod slots carries on smoothly when a free-running
// index wraps past 2^32.
func (s shared) txSlot(idx uint32) []byte { return s.slot(0, idx) }
func (s shared) rxSlot(idx uint32) []byte { return s.slot(s.slots, idx) }

func (s shared) slot(base, idx uint32) []byte {
	off := HeaderSize + uint64(base+idx&(s.slots-1))*SlotSize
	return s.mem[off : off+SlotSize : off+SlotSize]
}

// putFrame writes frame (whose size the caller checked) into slot.
func putFrame(slot, frame []byte) {
	binary.LittleEndian.PutUint16(slot, uint16(len(frame)))
	copy(slot[SlotHeader:], frame)
}

// frameLen reads a slot's length once: the peer may change it at any
// time, so the value is checked and then used from this copy only.
func frameLen(slot []byte) int { return int(binary.LittleEndian.Uint16(slot)) }

func validLen(n int) bool { return n >= MinFrame && n <= MaxFrame }
