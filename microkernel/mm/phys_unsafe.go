package mm

import (
	"unsafe"

	"valence.dev/microkernel/arch/amd64"
)

// pointer turns a kernel virtual address outside the Go heap (direct map,
// kernel image) into a pointer by reinterpreting its bits; it never was a Go
// pointer, and the garbage collector ignores pointers outside its heap.
func pointer(va uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&va)) }

// table returns the page-table page at physical address pa.
func table(pa uint64) *amd64.PageTable {
	return (*amd64.PageTable)(pointer(Phys2Virt(pa &^ (PageSize - 1))))
}

// PhysBytes returns the n bytes at physical address pa through the direct
// map. The caller must know the range is mapped (RAM, or below 4 GiB).
func PhysBytes(pa, n uint64) []byte {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(pointer(Phys2Virt(pa))), n)
}

// Words returns n 64-bit words at kernel virtual address va.
func words(va uintptr, n uint64) []uint64 {
	return unsafe.Slice((*uint64)(pointer(va)), n)
}

// addrOf returns the address of a kernel variable (used to find the physical
// location of page tables in the kernel image).
func addrOf(p *amd64.PageTable) uintptr { return uintptr(unsafe.Pointer(p)) }

// PhysPage returns the 4 KiB page at physical address pa as 512 words,
// through the direct map (an IOMMU's tables, say).
func PhysPage(pa uint64) *[512]uint64 { return (*[512]uint64)(table(pa)) }
