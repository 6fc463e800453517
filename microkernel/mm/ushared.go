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
// object, dropped (release) when the mapping is unmapped entirely or the
// address space is destroyed.

// regionShared is the vma kind bit for shared mappings.
const regionShared = 1

type sharedMapping struct {
	start, end uint64
	frames     []uint64
	release    func()
}

// MapShared maps frames (one per page, in order) at addr, or anywhere if
// !fixed and addr is unsuitable, with protection prot. release is called
// once when the mapping is gone.
func (as *AddressSpace) MapShared(addr uint64, frames []uint64, prot vma.Prot, fixed bool, release func()) (uint64, error) {
	length := uint64(len(frames)) * PageSize
	if length == 0 {
		return 0, ErrInvalid
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
	if err := as.set.Map(addr, addr+length, prot, regionShared); err != nil {
		return 0, ErrNoMem
	}
	fl := Lock()
	before := as.tablePages(addr, addr+length)
	ok := true
	for i, pa := range frames {
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
	as.shared = append(as.shared, sharedMapping{start: addr, end: addr + length, frames: frames, release: release})
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

// sharedFrame returns the object frame backing addr in a shared region.
func (as *AddressSpace) sharedFrame(addr uint64) (uint64, bool) {
	for _, m := range as.shared {
		if addr >= m.start && addr < m.end {
			return m.frames[(addr-m.start)/PageSize], true
		}
	}
	return 0, false
}

// dropShared releases the shared mappings lying entirely inside
// [start, end); a mapping only partly unmapped keeps its reference until
// the address space is destroyed (its frames stay valid meanwhile).
func (as *AddressSpace) dropShared(start, end uint64) {
	kept := as.shared[:0]
	for _, m := range as.shared {
		if m.start >= start && m.end <= end {
			if m.release != nil {
				m.release()
			}
			continue
		}
		kept = append(kept, m)
	}
	as.shared = kept
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
