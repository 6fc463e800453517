package block

import (
	"syscall"

	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
)

// The block protocol: a disk driver serves it on an endpoint; fsd and
// tests are its clients. Data never travels in messages: a client
// attaches a buffer (DMA memory the driver allocates and shares, which
// the client maps), and each read or write names a range of it, which the
// device reaches directly. Many calls may be in flight at once (the server
// answers them as the device completes them, in any order).
//
//	Identify  Empty -> Info              the disk's model, serial, geometry
//	Attach    AttachRequest -> AttachReply  a shared buffer for I/O
//	Detach    DetachRequest -> Empty     give a buffer back
//	Read      IO -> Empty                disk blocks into a buffer
//	Write     IO -> Empty                a buffer's bytes onto disk blocks
//	Flush     Empty -> Empty             make written blocks durable

// Empty is a request or reply with nothing in it.
type Empty struct{}

// AttachRequest asks for a buffer of Size bytes (at most MaxBuffer).
type AttachRequest struct {
	Size uint64
}

// AttachReply is a new buffer: ID names it in IO requests; Mem is a
// memory handle to map it with (libos.Map).
type AttachReply struct {
	ID   uint32
	Size uint64
	Mem  ipc.Handle
}

// DetachRequest gives buffer ID back; calls in flight on it fail.
type DetachRequest struct {
	ID uint32
}

// IO moves Count blocks starting at LBA between the disk and bytes
// [Off, Off+Count*SectorSize) of buffer ID.
type IO struct {
	ID    uint32
	Off   uint64
	LBA   uint64
	Count uint32
}

// Limits of the protocol.
const (
	MaxBuffer         = 4 << 20 // bytes in one buffer (ipc.MaxDMA)
	MaxBuffersPerPeer = 16
)

// The methods. Labels are the wire identity of a method: never reuse one.
var (
	Identify = rpc.Method[Empty, Info]{Label: 1, Name: "Identify"}
	Attach   = rpc.Method[AttachRequest, AttachReply]{Label: 2, Name: "Attach"}
	Detach   = rpc.Method[DetachRequest, Empty]{Label: 3, Name: "Detach"}
	Read     = rpc.Method[IO, Empty]{Label: 4, Name: "Read"}
	Write    = rpc.Method[IO, Empty]{Label: 5, Name: "Write"}
	Flush    = rpc.Method[Empty, Empty]{Label: 6, Name: "Flush"}
)

// Protocol is the block protocol.
var Protocol = rpc.NewProtocol("block",
	Identify.Def(), Attach.Def(), Detach.Def(), Read.Def(), Write.Def(), Flush.Def())

// The protocol's errors.
var (
	// ErrRange: blocks past the end of the disk, or more than MaxSectors.
	ErrRange = &rpc.Error{Code: int32(syscall.ERANGE), Msg: "block: blocks outside the disk"}
	// ErrBuffer: an unknown buffer, or a range outside it.
	ErrBuffer = &rpc.Error{Code: int32(syscall.EFAULT), Msg: "block: bad buffer range"}
	// ErrTooMany: the peer has MaxBuffersPerPeer buffers already.
	ErrTooMany = &rpc.Error{Code: int32(syscall.ENOSPC), Msg: "block: too many buffers"}
)
