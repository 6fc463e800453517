package mm

import "valence.dev/microkernel/arch/amd64"

// mmioNext is the next free address in the MMIO window. Windows are never
// unmapped: devices the kernel itself drives live for the whole boot.
var mmioNext uint64 = MMIOBase

// MapMMIO maps size bytes of device registers at physical address pa,
// uncached and not executable, and returns their virtual address.
func MapMMIO(pa, size uint64) (uintptr, bool) {
	off := pa & (PageSize - 1)
	start := pageDown(pa)
	end := pageUp(pa + size)
	if end <= start || mmioNext+(end-start) > MMIOBase+MMIOSize {
		return 0, false
	}
	va := mmioNext
	flags := uint64(amd64.PTEPresent|amd64.PTEWrite|amd64.PTENoCache|amd64.PTEWriteThr|amd64.PTEGlobal) | nxBit
	for p := start; p < end; p += PageSize {
		if !MapPage(kernelRoot, va+(p-start), p, flags) {
			return 0, false
		}
	}
	mmioNext += end - start
	return uintptr(va + off), true
}
