package mm

import (
	"fmt"

	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/multiboot"
)

// Device memory for user-space drivers (docs/drivers.md): physical ranges
// a driver may map (a device's registers), and physically contiguous
// memory a device may reach by DMA.
//
// A driver's register window must never cover memory the kernel owns:
// RAM (anything the firmware memory map does not call reserved, ACPI
// tables and NVS included), the first megabyte (BIOS data, option ROMs)
// and the devices the kernel drives itself (local APIC, I/O APICs),
// which ClaimDevice records. Mapping one of those would hand a process
// the kernel's memory or its interrupt controller; CheckDeviceRange
// refuses them with the reason.

type physRange struct {
	base, end uint64
	what      string
}

// forbidden are the ranges no device window may overlap; fixed-size, as
// it is filled before the heap exists.
var (
	forbidden  [multiboot.MaxRegions + 16]physRange
	nforbidden int
)

// maxPhys bounds device addresses: x86-64's architectural limit of 52
// physical address bits (Intel SDM vol. 3A §4.1.4).
const maxPhys = 1 << 52

func forbid(base, end uint64, what string) bool {
	if nforbidden == len(forbidden) {
		return false
	}
	forbidden[nforbidden] = physRange{base, end, what}
	nforbidden++
	return true
}

// noteRAM records the RAM of the firmware memory map; Init calls it.
func noteRAM(info *multiboot.Info) {
	forbid(0, 1<<20, "the first megabyte (BIOS data, option ROMs)")
	for _, r := range info.Regions[:info.NRegions] {
		if r.Type == multiboot.TypeReserved || r.Len == 0 || r.Base+r.Len < r.Base {
			continue
		}
		forbid(pageDown(r.Base), pageUp(r.Base+r.Len), "RAM")
	}
}

// ClaimDevice records a device the kernel drives itself, so that no
// driver can map it.
func ClaimDevice(pa, size uint64, what string) {
	forbid(pageDown(pa), pageUp(pa+size), what)
}

// CheckDeviceRange reports whether [pa, pa+size) may be a driver's
// register window, and if not, why.
func CheckDeviceRange(pa, size uint64) error {
	switch {
	case size == 0 || pa&(PageSize-1) != 0 || size&(PageSize-1) != 0:
		return fmt.Errorf("mm: device range %#x+%#x is not whole pages", pa, size)
	case pa+size < pa || pa+size > maxPhys:
		return fmt.Errorf("mm: device range %#x+%#x is outside the physical address space", pa, size)
	}
	for _, f := range forbidden[:nforbidden] {
		if pa < f.end && f.base < pa+size {
			return fmt.Errorf("mm: device range %#x+%#x overlaps %s at %#x-%#x", pa, size, f.what, f.base, f.end)
		}
	}
	return nil
}

// AllocUserContig returns n zeroed, physically contiguous frames for DMA
// memory, outside the kernel's reserve. Interrupts must be off (Lock).
func AllocUserContig(n uint64) (uint64, bool) {
	if n == 0 || frames.FreeCount() <= reserveFrames+n {
		return 0, false
	}
	pa, err := frames.AllocContig(n, 1)
	if err != nil {
		return 0, false
	}
	for i := uint64(0); i < n; i++ {
		amd64.FillZero(Phys2Virt(pa+i*PageSize), PageSize/8)
	}
	return pa, true
}
