package mm

// The kernel's reserve. The kernel's own heap is demand-paged from the same
// frames as user memory (see kheap.go), and a heap fault that finds no frame
// is fatal: it happens inside the Go runtime, which cannot fail an
// allocation. So user allocations — a process's pages, the page tables of
// user address spaces, memory objects — stop while the kernel still has
// reserveFrames free frames: they fail (ENOMEM, or the out-of-memory killer
// in proc frees memory and the fault is retried), while the kernel heap and
// the kernel's page tables may go on into the reserve. Kernel objects that
// processes create (endpoints, threads, processes, ...) are admitted against
// a lower threshold (KernelCanGrow), so the last part of the reserve is the
// Go runtime's own: goroutine stacks, collector metadata, transient buffers.

// reserveFrames is the reserve, set once by Init.
var reserveFrames uint64

// Reserve sizing: 1/16 of the memory free at boot, at least 8 MiB and at
// most 128 MiB. The kernel's heap for the largest number of processes and
// threads the process limits admit (proc sizes those from this reserve) plus
// its collector's headroom fits in it; see docs/capabilities.md, "Memory
// accounting", for the measurements.
const (
	reserveMin     = 8 << 20 / PageSize
	reserveMax     = 128 << 20 / PageSize
	reserveDivisor = 16
)

// sizeReserve sets the reserve from the number of free frames at boot.
func sizeReserve(free uint64) {
	r := free / reserveDivisor
	if r < reserveMin {
		r = reserveMin
	}
	if r > reserveMax {
		r = reserveMax
	}
	if r > free/2 {
		r = free / 2 // a tiny machine: leave user space something
	}
	reserveFrames = r
}

// ReserveBytes returns the size of the kernel's reserve.
func ReserveBytes() uint64 { return reserveFrames * PageSize }

// AllocUserFrame is AllocFrame for memory a process is charged for: it
// fails rather than take a frame from the kernel's reserve. Interrupts must
// be off (Lock), so that the check and the allocation are one step.
func AllocUserFrame() (uint64, bool) {
	if frames.FreeCount() <= reserveFrames {
		return 0, false
	}
	return AllocFrame()
}

// UserFreeFrames returns how many frames user allocations may still take.
func UserFreeFrames() uint64 {
	fl := Lock()
	f := frames.FreeCount()
	Unlock(fl)
	if f <= reserveFrames {
		return 0
	}
	return f - reserveFrames
}

// KernelCanGrow reports whether the kernel may take on an object of about
// bytes of heap for a process: it may use up to three quarters of the
// reserve for that, the rest being the runtime's own.
func KernelCanGrow(bytes uint64) bool {
	fl := Lock()
	f := frames.FreeCount()
	Unlock(fl)
	need := reserveFrames/4 + (bytes+PageSize-1)/PageSize
	return f > need
}

// FreeFrames returns the number of free frames.
func FreeFrames() uint64 {
	fl := Lock()
	defer Unlock(fl)
	return frames.FreeCount()
}
