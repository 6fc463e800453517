// Package blockclient adapts a disk driver's block protocol
// (valence.dev/drivers/lib/block) to the blockdev.Device interface the
// filesystem is written against, so that fsd can mount a filesystem on
// nvmed or virtio-blkd.
//
// # Data path
//
// At Open the client attaches one shared buffer (block.Attach) and maps
// it with the Map function it is given (libos.Map in the OS, a fake in
// hosted tests). The buffer is cut into equal slots; a slot holds the
// data of one request in flight. ReadAt and WriteAt split their range
// into pieces of at most one slot (which is also at most the driver's
// MaxSectors), take a free slot for each, copy the data in (writes),
// call block.Read or block.Write naming the slot, and copy the data out
// (reads). Pieces run concurrently, each in its own goroutine, so the
// number of slots bounds the requests in flight; callers of ReadAt and
// WriteAt on several goroutines share the same slots.
//
// Blocks are the filesystem's 4096 bytes; the driver counts sectors of
// Info.SectorSize, which must be 512 or 4096 (anything else is refused
// at Open). A block is 4096/SectorSize sectors, and the device's size is
// the whole blocks that fit in its sectors.
//
// # Failure
//
// The driver's own answers (a range error, a device error) fail the one
// call and leave the device usable. A failure of the connection (the
// driver died: EOWNERDEAD from the transport; or a request outlived
// Options.Timeout) is different: the driver may still own a slot the
// request used, and every later request would meet the same dead
// endpoint, so the Device breaks. That call and every later one fail at
// once with an error wrapping ErrDriverGone (and the transport's error:
// errors.Is(err, syscall.EOWNERDEAD) holds when the driver died). No
// call ever waits on a dead driver. A restarted driver is a new Device:
// the filesystem remounts on it (and the image is as of the last commit,
// which is what the crash-consistency design promises anyway).
//
// # Invariants
//
//   - A slot is owned by exactly one request from taking it to putting
//     it back; a slot whose request failed with a connection error is
//     never put back (the device is broken by then).
//   - The mapped buffer is unmapped only by Close, after which the
//     Device must not be used.
package blockclient
