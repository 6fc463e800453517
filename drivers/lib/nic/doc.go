// Package nic is the interface between a network driver (virtio-netd) and
// its client (netd, test programs): a typed IPC protocol for control, and
// rings in shared memory for frames, which never travel in messages.
//
// # The protocol
//
//	Info    Empty -> LinkInfo          MAC address, MTU (1500), link state
//	Attach  AttachRequest -> AttachReply  become the client: rings and notifications
//	Detach  Empty -> Empty             stop being the client (ErrNotAttached if not it)
//	Stats   Empty -> Counters          frames sent, received, dropped; detaches
//
// Labels 1-4 in that order. Attach carries RxReady, a notification the
// client created, with the Signal right (ErrBadHandle otherwise). The
// reply carries Mem, a memory object the driver created (libos.NewMemory)
// holding the rings, with Read, Write, Map and Grant; TxReady, a
// notification the driver created, with Signal and Grant only; and Slots,
// the number of slots in each ring (a power of two, DefaultSlots unless
// the driver is told otherwise). The driver signals ReadyBit on RxReady
// after putting frames in the receive ring and when it detaches the
// client; the client signals TxReady after putting frames in the transmit
// ring (any bits: they only wake the driver).
//
// One client at a time. The latest Attach wins: it replaces the attached
// client, whose rings are marked detached (FlagDetached) and whose RxReady
// is signalled, so its Send and Receive return ErrDetached; its memory
// stays mapped on its side until it closes it. Replacing rather than
// refusing (EBUSY) means a client that died, which the driver cannot
// observe, never locks the NIC away; who may reach the driver is decided
// by who can look it up, not by the driver.
//
// The other way round, a driver that died signals nothing either, so a
// client's Receive that has waited probeInterval (2 s) for a frame asks
// the driver for its Info: a dead driver's endpoint fails the call at
// once, and Receive returns that error (netd then ends and is restarted
// on the driver pcid starts again).
//
// # The rings
//
// The memory is MemSize(Slots) bytes: a 4 KiB header, then Slots transmit
// slots, then Slots receive slots, each SlotSize (2048) bytes.
//
//	offset  writer  word (uint32, native byte order: little-endian)
//	0       client  tx head: frames the client has put in the transmit ring
//	64      driver  tx tail: frames the driver has taken from it
//	128     driver  rx head: frames the driver has put in the receive ring
//	192     client  rx tail: frames the client has taken from it
//	256     driver  flags: FlagDetached (1)
//	260     driver  Slots, as in the reply
//	4096 + i*2048                transmit slot i
//	4096 + (Slots+i)*2048        receive slot i
//	slot:   uint16 length (little-endian), then the frame (14-1514 bytes)
//
// The indices are free-running uint32 counters: frame number k lives in
// slot k mod Slots, and a ring holds head - tail frames (mod 2^32), 0 to
// Slots. Each ring has one producer and one consumer. The producer writes
// the slot, then publishes it by storing head; the consumer loads head,
// reads the slots before it, then gives them back by storing tail. Every
// index access is a sync/atomic load or store, which orders the slot
// accesses around it (and lets the race detector see the handover in
// hosted tests). The driver initialises the header before replying to
// Attach; the indices start equal.
//
// # Trust
//
// The driver never trusts the client. Its own indices (tx tail, rx head)
// live in Go memory and are only copied into the header; a value the
// client writes there is ignored. Each client index is loaded once and
// checked: a tx head more than Slots ahead of the tail (behind it
// included, modulo 2^32), or an rx tail that is not within Slots behind
// the head, is a protocol error; so is a transmit length below MinFrame
// or above MaxFrame, read once from the slot and then used from that
// copy. A frame is copied out of the slot before the device sees it. A
// protocol error detaches the client (DriverRing.Detach: FlagDetached,
// RxReady signalled, the Detached hook called once, where the driver logs
// it), drops its frames from the bad one on, and never panics or indexes
// out of range. Received frames that find the client's ring full are
// dropped and counted (Counters.RxDropped); with no live client they are
// dropped too (RxNoClient). The client checks the driver the same way
// (ClientRing), so a broken driver costs it an error.
//
// # Pieces
//
// DriverRing and ClientRing are the two ends of the rings, pure Go over a
// []byte with function hooks for the notifications, so that the ring logic
// is tested hosted. Server exports a Device (a NIC driver's core) with
// the protocol: Run moves received frames into the client's receive ring,
// and each attachment has a goroutine that waits on TxReady and drains
// the transmit ring into Device.Send. Conn (Dial) is the client. Both go
// through Kernel for shared memory and notifications: LibOS in Valence,
// nictest's fake in hosted tests.
//
// Not done: one client only (a multiplexer would belong to netd); one
// notification per frame each way (a consumer-asleep flag in the header
// would let producers skip most signals); Send does not block when the
// ring is full (SendWait polls).
package nic
