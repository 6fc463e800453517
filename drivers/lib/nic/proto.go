package nic

import (
	"syscall"

	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
)

// Empty is a request or reply with nothing in it.
type Empty struct{}

// LinkInfo describes the NIC (the reply to Info).
type LinkInfo struct {
	MAC    [6]byte
	MTU    uint32 // largest payload of a frame: MaxFrame - 14 (1500)
	LinkUp bool
}

// AttachRequest attaches the caller as the NIC's client. RxReady is a
// notification the client created, passed with (at least) the Signal
// right: the driver signals ReadyBit on it when it has put frames in the
// receive ring, or has detached the client.
type AttachRequest struct {
	RxReady ipc.Handle
}

// AttachReply is the attachment: Mem is the shared memory holding the
// rings (map it read-write), TxReady a notification the client signals
// (ReadyBit) after putting frames in the transmit ring, and Slots the
// number of slots in each ring (a power of two).
type AttachReply struct {
	Mem     ipc.Handle
	TxReady ipc.Handle
	Slots   uint32
}

// Counters count what the driver did with frames since it started (the
// reply to Stats).
type Counters struct {
	TxFrames   uint64 // taken from clients' transmit rings and sent
	TxErrors   uint64 // taken but refused by the device
	RxFrames   uint64 // received and put in the client's receive ring
	RxDropped  uint64 // received while the client's receive ring was full
	RxNoClient uint64 // received with no (live) client attached
	Detaches   uint64 // clients detached for breaking the ring protocol
	Attaches   uint64
}

// ReadyBit is the notification bit each side signals the other with.
// The driver signals only ReadyBit on a client's RxReady; any bit a
// client signals on TxReady merely wakes the driver.
const ReadyBit = 1

// The methods. Labels are the wire identity of a method: never reuse one.
var (
	Info   = rpc.Method[Empty, LinkInfo]{Label: 1, Name: "Info"}
	Attach = rpc.Method[AttachRequest, AttachReply]{Label: 2, Name: "Attach"}
	Detach = rpc.Method[Empty, Empty]{Label: 3, Name: "Detach"}
	Stats  = rpc.Method[Empty, Counters]{Label: 4, Name: "Stats"}
)

// Protocol is the NIC protocol.
var Protocol = rpc.NewProtocol("nic", Info.Def(), Attach.Def(), Detach.Def(), Stats.Def())

// The protocol's errors.
var (
	// ErrBadHandle: Attach's RxReady is not a notification with the
	// Signal right.
	ErrBadHandle = &rpc.Error{Code: int32(syscall.EINVAL), Msg: "nic: RxReady must be a notification with the Signal right"}
	// ErrNotAttached: Detach from a caller that is not the attached
	// client.
	ErrNotAttached = &rpc.Error{Code: int32(syscall.ENOTCONN), Msg: "nic: not the attached client"}
)
