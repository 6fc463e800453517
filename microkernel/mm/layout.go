package mm

// Kernel virtual address layout; see doc.go.
const (
	DirectMapBase = 0xffff_8000_0000_0000
	DirectMapSize = 512 << 30 // one PDPT: RAM beyond 512 GiB is not used
	HeapBase      = 0xffff_c000_0000_0000
	HeapSize      = 2 << 40
	MMIOBase      = 0xffff_fe00_0000_0000
	MMIOSize      = 512 << 30
	KernelBase    = 0xffff_ffff_8000_0000

	PageSize = 4096
)

// Phys2Virt returns the direct-map address of physical address pa.
func Phys2Virt(pa uint64) uintptr { return uintptr(DirectMapBase + pa) }

// KernelVirt2Phys translates an address in the kernel image or the direct map
// (the two linear regions) to physical.
func KernelVirt2Phys(va uintptr) (uint64, bool) {
	v := uint64(va)
	switch {
	case v >= KernelBase:
		return v - KernelBase, true
	case v >= DirectMapBase && v < DirectMapBase+DirectMapSize:
		return v - DirectMapBase, true
	}
	return 0, false
}

func pageDown(v uint64) uint64 { return v &^ (PageSize - 1) }
func pageUp(v uint64) uint64   { return (v + PageSize - 1) &^ (PageSize - 1) }
