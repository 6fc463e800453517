//go:build !linux

package blockdev

import "os"

// syncData is fsync(2) where fdatasync(2) is not available.
func syncData(f *os.File) error { return f.Sync() }
