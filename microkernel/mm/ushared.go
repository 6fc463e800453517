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
// release is called once when the mapping is gone.
func (as *AddressSpace) MapShared(addr uint64, frames []uint64, prot, max vma.Prot, fixed bool, release func()) (uint64, error) {
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
	if err := as.mapRegion(addr, addr+length, prot, regionShared|maxFlags(max)); err != nil {
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
		if !MapPage(as.root, addr+uint64(i)*PageSize, pa, userPTE(prot)|swShared) {
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

// tablePages counts the distinct level-1 tables covering [start, end)
// (for accounting the tables MapShared adds).
func (as *AddressSpace) tablePages(start, end uint64) int {
	n := 0
	for va := start &^ (2<<20 - 1); va < end; va += 2 << 20 {
		n += countTables(as.root, va)
	}
	return n
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
	if !MapPage(as.root, va, pa, userPTE(r.Prot)|swShared) {
		return 0, ErrNoMem
	}
	added := int64(countTables(as.root, va) - before)
	as.pages += added
	userFrames.Add(added)
	return pa, nil
}

var _ = amd64.PTEPresent
