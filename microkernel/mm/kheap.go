package mm

import (
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/mm/vma"
)

// The kernel heap window: every mapping the Go runtime creates for the
// kernel lives here. heapRegions is static so that the set never allocates.
var (
	heapRegions [4096]vma.Region
	heap        vma.Set
	kernelRoot  uint64 // physical address of the kernel PML4
	committed   uint64 // pages of the heap window backed by frames
)

// KernelRoot returns the physical address of the kernel's PML4.
func KernelRoot() uint64 { return kernelRoot }

// HeapCommitted returns the number of bytes of the heap window backed by
// physical frames.
func HeapCommitted() uint64 { return committed * PageSize }

func heapInit() { heap.Init(heapRegions[:], HeapBase, HeapBase+HeapSize) }

func protOf(p uint64) vma.Prot {
	var r vma.Prot
	if p&linux.PROT_READ != 0 {
		r |= vma.Read
	}
	if p&linux.PROT_WRITE != 0 {
		r |= vma.Write | vma.Read
	}
	if p&linux.PROT_EXEC != 0 {
		r |= vma.Exec | vma.Read
	}
	return r
}

// pteFlags returns the PTE bits for a kernel page with protection p.
func pteFlags(p vma.Prot) uint64 {
	f := uint64(amd64.PTEPresent | amd64.PTEGlobal)
	if p&vma.Write != 0 {
		f |= amd64.PTEWrite
	}
	if p&vma.Exec == 0 {
		f |= nxBit
	}
	return f
}

func inHeap(start, end uint64) bool {
	return start >= HeapBase && end <= HeapBase+HeapSize && start < end
}

// KernelMmap implements mmap(2) for the Go runtime running the kernel:
// anonymous private memory only, placed in the heap window.
func KernelMmap(addr, length, prot, flags uint64) (uint64, errno.Errno) {
	if length == 0 || length > HeapSize || addr&(PageSize-1) != 0 {
		return 0, errno.EINVAL
	}
	if flags&linux.MAP_ANONYMOUS == 0 {
		return 0, errno.ENODEV
	}
	length = pageUp(length)
	p := protOf(prot)
	fixed := flags&(linux.MAP_FIXED|linux.MAP_FIXED_NOREPLACE) != 0
	if fixed {
		if !inHeap(addr, addr+length) {
			return 0, errno.ENOMEM
		}
		if flags&linux.MAP_FIXED_NOREPLACE != 0 && !heap.IsFree(addr, addr+length) {
			return 0, errno.EEXIST
		}
	} else if !inHeap(addr, addr+length) || !heap.IsFree(addr, addr+length) {
		a, err := heap.FindFree(length, PageSize, 0)
		if err != nil || a == 0 {
			return 0, errno.ENOMEM
		}
		addr = a
	}
	// Replacing a mapping discards its pages, as in Linux.
	committed -= uint64(walkRange(kernelRoot, addr, addr+length, opRelease, 0))
	if err := heap.Map(addr, addr+length, p, 0); err != nil {
		return 0, errno.ENOMEM
	}
	return addr, 0
}

// KernelMunmap implements munmap(2) for the kernel's runtime.
func KernelMunmap(addr, length uint64) errno.Errno {
	if addr&(PageSize-1) != 0 || length == 0 {
		return errno.EINVAL
	}
	end := addr + pageUp(length)
	if !inHeap(addr, end) {
		return errno.EINVAL
	}
	committed -= uint64(walkRange(kernelRoot, addr, end, opRelease, 0))
	if err := heap.Unmap(addr, end); err != nil {
		return errno.ENOMEM
	}
	return 0
}

// KernelMprotect implements mprotect(2) for the kernel's runtime.
func KernelMprotect(addr, length, prot uint64) errno.Errno {
	if addr&(PageSize-1) != 0 {
		return errno.EINVAL
	}
	end := addr + pageUp(length)
	if length == 0 {
		return 0
	}
	if !inHeap(addr, end) {
		return errno.ENOMEM
	}
	p := protOf(prot)
	if err := heap.Protect(addr, end, p); err != nil {
		return errno.ENOMEM
	}
	if p == 0 {
		// PROT_NONE keeps the contents: the frames stay in their entries,
		// marked not present (see swProtNone), until access is allowed again.
		walkRange(kernelRoot, addr, end, opHide, 0)
		return 0
	}
	walkRange(kernelRoot, addr, end, opProtect, pteFlags(p))
	return 0
}

// KernelMadvise implements madvise(2): MADV_DONTNEED and MADV_FREE return
// the frames at once (the next touch faults in a zero page); other advice is
// accepted and ignored.
func KernelMadvise(addr, length, advice uint64) errno.Errno {
	if addr&(PageSize-1) != 0 {
		return errno.EINVAL
	}
	end := addr + pageUp(length)
	if length == 0 {
		return 0
	}
	if !inHeap(addr, end) {
		return errno.ENOMEM
	}
	switch advice {
	case linux.MADV_DONTNEED, madvFree:
		committed -= uint64(walkRange(kernelRoot, addr, end, opRelease, 0))
	}
	return 0
}

// FaultResult says what KernelFault did.
type FaultResult int

// Outcomes of KernelFault.
const (
	FaultHandled  FaultResult = iota // a page was supplied; retry the access
	FaultBad                         // no mapping allows the access: a real fault
	FaultNoMemory                    // out of physical memory
)

// KernelFault handles a page fault at va in the heap window. code is the
// page-fault error code.
func KernelFault(va, code uint64) FaultResult {
	if va < HeapBase || va >= HeapBase+HeapSize {
		return FaultBad
	}
	r, ok := heap.Find(va)
	if !ok || r.Prot == 0 {
		return FaultBad
	}
	if code&amd64.PFWrite != 0 && r.Prot&vma.Write == 0 {
		return FaultBad
	}
	if code&amd64.PFFetch != 0 && r.Prot&vma.Exec == 0 {
		return FaultBad
	}
	if code&amd64.PFPresent != 0 {
		return FaultBad // present page, access denied: the tables already match the region
	}
	if e, ok := walk(kernelRoot, va, false, 0); ok && *e&swProtNone != 0 {
		// A page hidden by mprotect(PROT_NONE) that is accessible again.
		*e = *e&amd64.PTEAddrMask | pteFlags(r.Prot)
		return FaultHandled
	}
	pa, ok := AllocFrame()
	if !ok {
		return FaultNoMemory
	}
	if !MapPage(kernelRoot, pageDown(va), pa, pteFlags(r.Prot)) {
		FreeFrame(pa)
		return FaultNoMemory
	}
	committed++
	return FaultHandled
}

// HeapRegions returns the number of regions in the heap window.
func HeapRegions() int { return heap.Len() }

// madvFree is MADV_FREE (include/uapi/asm-generic/mman-common.h), which
// gvisor's abi/linux does not define.
const madvFree = 8

// KernelPrefault makes [start, start+n) accessible (writable if write)
// before trap-context code touches it, supplying frames for untouched heap
// pages now rather than through a nested page fault. This matters because a
// page fault taken while the page-fault handler itself runs would land on
// the same interrupt stack and overwrite the frame it interrupted. It
// reports false if any page of the range is not valid kernel memory for the
// access, in which case nothing should touch it.
func KernelPrefault(start, n uint64, write bool) bool {
	end := start + n
	if end < start {
		return false
	}
	if n == 0 {
		return true
	}
	switch {
	case start >= KernelBase:
		if end > kernelImageEnd {
			return false
		}
		if !imageProtected {
			return true // 2 MiB pages, all of them writable
		}
		// The image's 4 KiB pages carry its segments' permissions.
		for va := pageDown(start); va < end; va += PageSize {
			e, ok := walk(kernelRoot, va, false, 0)
			if !ok || *e&amd64.PTEPresent == 0 || write && *e&amd64.PTEWrite == 0 {
				return false
			}
		}
		return true
	case start >= DirectMapBase && end <= DirectMapBase+directMapTop:
		return true
	case start >= HeapBase && end <= HeapBase+HeapSize:
	default:
		return false
	}
	for va := pageDown(start); va < end; va += PageSize {
		if e, ok := walk(kernelRoot, va, false, 0); ok && *e&amd64.PTEPresent != 0 {
			if write && *e&amd64.PTEWrite == 0 {
				return false
			}
			continue
		}
		code := uint64(0)
		if write {
			code = amd64.PFWrite
		}
		if KernelFault(va, code) != FaultHandled {
			return false
		}
	}
	return true
}

// Bounds of the always-mapped kernel regions, set by Init.
var (
	kernelImageEnd uint64 = KernelBase + 1<<30
	directMapTop   uint64 = 4 << 30
)

// SetKernelImageEnd records where the kernel image (with bss) ends.
func SetKernelImageEnd(va uint64) { kernelImageEnd = va }
