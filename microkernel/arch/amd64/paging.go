package amd64

// Page-table entry format for 4-level paging (SDM vol. 3A §4.5, tables 4-14
// to 4-20). The same bits serve all four levels; PS marks a 2 MiB page in a
// page directory or a 1 GiB page in a PDPT.
const (
	PTEPresent  = 1 << 0
	PTEWrite    = 1 << 1
	PTEUser     = 1 << 2
	PTEWriteThr = 1 << 3 // PWT
	PTENoCache  = 1 << 4 // PCD
	PTEAccessed = 1 << 5
	PTEDirty    = 1 << 6
	PTEHuge     = 1 << 7 // PS
	PTEGlobal   = 1 << 8
	PTENoExec   = 1 << 63

	// PTEAddrMask selects the physical frame address (bits 51:12).
	PTEAddrMask = 0x000F_FFFF_FFFF_F000

	PageSize     = 4096
	PageShift    = 12
	HugePageSize = 2 << 20
	TableEntries = 512
)

// PageTable is one page of any paging level.
type PageTable [TableEntries]uint64

// Index returns the index into the table at level (4 = PML4 ... 1 = PT) that
// translates va.
func Index(va uint64, level int) int {
	return int(va>>(PageShift+9*uint(level-1))) & (TableEntries - 1)
}

// Canonical reports whether va is a canonical 48-bit address (bits 63:47 all
// equal), the only kind the CPU will translate.
func Canonical(va uint64) bool {
	top := va >> 47
	return top == 0 || top == 0x1FFFF
}

// Page-fault error code bits (SDM vol. 3A §4.7, figure 4-12).
const (
	PFPresent  = 1 << 0 // the fault was a protection violation, not a missing page
	PFWrite    = 1 << 1
	PFUser     = 1 << 2
	PFReserved = 1 << 3
	PFFetch    = 1 << 4
)
