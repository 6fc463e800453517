package mm

import (
	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/mm/frame"
)

// frames is the physical frame allocator. Interrupts must be off to use it.
var frames frame.Allocator

// AllocFrame returns a zeroed physical frame.
func AllocFrame() (uint64, bool) {
	pa, err := frames.Alloc()
	if err != nil || pa == 0 {
		return 0, false
	}
	amd64.FillZero(Phys2Virt(pa), PageSize/8)
	return pa, true
}

// FreeFrame returns a frame to the allocator.
func FreeFrame(pa uint64) {
	_ = frames.Free(pa)
}

// FrameStats describes physical memory use.
func FrameStats() frame.Stats { return frames.Stats() }

// Lock makes goroutine code that uses this package exclusive with trap
// handlers by disabling interrupts; it returns the flags for Unlock.
func Lock() uint64 { return amd64.SaveFlagsAndDisable() }

// Unlock restores the interrupt flag saved by Lock.
func Unlock(flags uint64) { amd64.RestoreFlags(flags) }
