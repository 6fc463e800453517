package blockdev

import (
	"errors"
	"fmt"

	"valence.dev/servers/fs/seal"
)

// BlockSize is the size of a block in bytes.
const BlockSize = seal.BlockSize

// SectorSize is the unit a torn write is made of: a power cut can leave
// any subset of a block's sectors written.
const SectorSize = 512

// Device is a block device. See the package documentation for the
// durability contract.
type Device interface {
	// ReadAt fills p, whose length is a multiple of BlockSize, from the
	// blocks starting at block.
	ReadAt(p []byte, block uint64) error
	// WriteAt writes p, whose length is a multiple of BlockSize, to the
	// blocks starting at block.
	WriteAt(p []byte, block uint64) error
	// Flush returns once every write that completed before it is durable.
	Flush() error
	// Blocks is the size of the device in blocks.
	Blocks() uint64
}

// ErrRange reports a request that is misaligned or runs past the end of
// the device.
var ErrRange = errors.New("blockdev: request outside the device or not whole blocks")

// check validates a request of len(p) bytes at block on a device of n
// blocks. It is shared by every device so they all refuse the same
// requests the same way.
func check(p []byte, block, n uint64) error {
	if len(p)%BlockSize != 0 {
		return fmt.Errorf("%d bytes at block %d: %w", len(p), block, ErrRange)
	}
	count := uint64(len(p) / BlockSize)
	if block > n || count > n-block {
		return fmt.Errorf("%d blocks at block %d of %d: %w", count, block, n, ErrRange)
	}
	return nil
}
