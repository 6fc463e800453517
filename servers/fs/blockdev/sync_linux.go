package blockdev

import (
	"os"
	"syscall"
)

// syncData is fdatasync(2): it flushes the file's data and the metadata
// needed to read it back (its block map, for a sparse image), but not
// its timestamps, which an image does not need and which would cost a
// journal commit per flush on the host filesystem.
func syncData(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}
