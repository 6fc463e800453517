package mm

import (
	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/mm/vma"
)

// Shared mappings: a memory object's frames mapped into an address space.
// The frames belong to the object, not to the address space: their entries
// carry swShared, unmapping never frees them, and a fault in the region
// (after madvise or a protection change) maps the object's frame back
// rather than a fresh zero page. Each mapping holds a reference on the
// object, dropped (release) when the last piece of the mapping is unmapped
// or the address space is destroyed. The records of which frames back
// which pages, and the mapping's maximum protection, are in ulayout.go.

// MapShared maps frames (one per page, in order) at addr, or anywhere if
// !fixed and addr is unsuitable, with protection prot. max is the most the
// mapping may ever have, what the capability it is made through allows:
// prot must be within it (else ErrAccess), and Protect never exceeds it.
// release is called once when the mapping is gone. Device registers
// (uncached) are mapped with caching disabled, PCD and PWT (Intel SDM vol.
// 3A §11.12.3: with the default PAT, PCD|PWT selects UC).
func (as *AddressSpace) MapShared(addr uint64, frames []uint64, prot, max vma.Prot, fixed, uncached bool, release func()) (uint64, error) {
	length := uint64(len(frames)) * PageSize
	if length == 0 {
		return 0, ErrInvalid
	}
	if prot&^max != 0 {
		return 0, ErrAccess
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	if fixed {
		end, err := checkRange(addr, length)
		if err != nil {
			return 0, err
		}
		if !as.set.IsFree(addr, end) {
			return 0, ErrExist
		}
	} else if addr < UserMin || addr+length > UserMax || addr+length < addr || addr&(PageSize-1) != 0 || !as.set.IsFree(addr, addr+length) {
		a, err := as.set.FindFree(length, PageSize, mmapBase)
		if err != nil {
			return 0, ErrNoMem
		}
		addr = a
	}
	kind := regionShared | maxFlags(max)
	if uncached {
		kind |= regionDevice
	}
	if err := as.mapRegion(addr, addr+length, prot, kind); err != nil {
		return 0, err
	}
	fl := Lock()
	before := as.tablePages(addr, addr+length)
	ok := true
	eager := frames
	if prot == 0 {
		// PROT_NONE: no entries, as userPTE(0) would be present and
		// readable; once mprotect allows access, a fault maps the
		// object's frame (mapSharedPage).
		eager = nil
	}
	for i, pa := range eager {
		if !MapPage(as.root, addr+uint64(i)*PageSize, pa, userPTE(prot)|sharedBits(kind)) {
			ok = false
			break
		}
	}
	added := int64(as.tablePages(addr, addr+length) - before)
	Unlock(fl)
	as.pages += added
	userFrames.Add(added)
	if !ok {
		as.releaseLocked(addr, addr+length)
		as.set.Unmap(addr, addr+length)
		return 0, ErrNoMem
	}
	as.addShared(addr, frames, release)
	return addr, nil
}

// tablePages counts the distinct page-table pages below the PML4 that
// translate [start, end): page-directory-pointer tables (one per 512 GiB),
// page directories (one per GiB) and page tables (one per 2 MiB), each
// once, for accounting the tables MapShared adds. (Summing countTables
// over each 2 MiB window counted a new directory once per window it
// covers: debug mode caught the address space's page count running ahead
// of its tables.)
func (as *AddressSpace) tablePages(start, end uint64) int {
	return countTablePages(table, as.root, start, end)
}

// countTablePages is tablePages over the tables tbl reads.
func countTablePages(tbl tableFunc, root, start, end uint64) int {
	n := 0
	for level, span := range [...]uint64{4: 1 << 39, 3: 1 << 30, 2: 2 << 20} {
		if span == 0 {
			continue
		}
		for va := start &^ (span - 1); va < end; va += span {
			if tableBelow(tbl, root, va, level) {
				n++
			}
		}
	}
	return n
}

// tableBelow reports whether the entry at level (4: the PML4) on va's path
// is present, that is whether the table it points to exists.
func tableBelow(tbl tableFunc, root, va uint64, level int) bool {
	t := tbl(root)
	for l := 4; ; l-- {
		e := t[amd64.Index(va, l)]
		if e&amd64.PTEPresent == 0 {
			return false
		}
		if l == level {
			return true
		}
		t = tbl(e & amd64.PTEAddrMask)
	}
}

// mapSharedPage re-establishes the entry for a shared page after a fault.
func (as *AddressSpace) mapSharedPage(va uint64, r vma.Region) (uint64, error) {
	pa, ok := as.sharedFrame(va)
	if !ok {
		return 0, ErrFault
	}
	fl := Lock()
	defer Unlock(fl)
	before := countTables(as.root, va)
	if !MapPage(as.root, va, pa, userPTE(r.Prot)|sharedBits(r.Flags)) {
		return 0, ErrNoMem
	}
	added := int64(countTables(as.root, va) - before)
	as.pages += added
	userFrames.Add(added)
	return pa, nil
}

// sharedBits are the extra entry bits of a shared region's pages.
func sharedBits(kind uint32) uint64 {
	if kind&regionDevice != 0 {
		return swShared | amd64.PTENoCache | amd64.PTEWriteThr
	}
	return swShared
}
