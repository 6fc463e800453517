// Package block is the block-device side shared by Valence's disk drivers
// (nvmed, virtio-blkd) and their clients (fsd): the Device interface a
// driver's core implements, and the typed IPC protocol and server that
// export a Device to other processes with the data in shared memory.
package block

import "valence.dev/drivers/lib/dev"

// Info describes a disk.
type Info struct {
	Model      string // as the device reports it, trimmed
	Serial     string
	SectorSize uint32 // bytes per logical block
	Sectors    uint64 // number of logical blocks
	MaxSectors uint32 // most blocks one request may move
}

// Op is what a request does.
type Op uint8

const (
	OpRead Op = iota + 1
	OpWrite
	OpFlush
)

// Request is one I/O. Buf is DMA memory (dev.Buffer) and Off the byte
// offset in it where the data starts; Count blocks from LBA move between
// the disk and Buf.Bytes[Off:Off+Count*SectorSize]. For OpFlush only Done
// matters.
type Request struct {
	Op    Op
	LBA   uint64
	Count uint32
	Buf   *dev.Buffer
	Off   uint64
	// Done is called exactly once, from any goroutine, when the request
	// has completed (err nil) or failed.
	Done func(err error)
}

// Device is a disk driver's core. Submit checks the request (range,
// alignment, buffer bounds) and either fails it at once through Done or
// queues it; many requests may be in flight. Close fails what is queued
// and stops the device.
type Device interface {
	Info() Info
	Submit(r *Request)
	Close() error
}
