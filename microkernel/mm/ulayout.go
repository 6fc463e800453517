package mm

import (
	"errors"

	"valence.dev/microkernel/mm/vma"
)

// The bookkeeping half of a user address space: its regions and the
// records of which memory object's frames back its shared regions. Nothing
// here touches a page table, so it is tested on the host (ulayout_test.go);
// AddressSpace changes the page tables around these calls, under its lock.
//
// Two rules keep a mapping from ever giving more than it was made with:
//
//   - Every region carries the maximum protection its mapping may have
//     (Linux's VM_MAYREAD/MAYWRITE/MAYEXEC) in its kind bits, so it
//     survives splits and merges (vma keeps a region's Flags, and merges
//     only regions of the same kind). A shared mapping's maximum is what
//     the capability it was made through allowed; protect refuses
//     (ErrAccess, EACCES) to exceed it on any page of the range.
//   - The shared records cover exactly the pages of the shared regions,
//     without overlap: whatever removes or replaces part of a shared
//     region (munmap, mmap MAP_FIXED, exit) cuts the records the same way,
//     so a fault in a shared region finds the one frame mapped there and
//     never the frame of an object mapped there before.

// Region kind bits (vma.Region.Flags) in user address spaces. The "No"
// bits are a maximum protection, inverted so that 0, what anonymous
// memory gets, allows everything.
const (
	regionShared  = 1 << 0 // a memory object's frames (ushared.go)
	regionNoRead  = 1 << 1 // may never be made readable
	regionNoWrite = 1 << 2 // may never be made writable
	regionNoExec  = 1 << 3 // may never be made executable
	regionDevice  = 1 << 4 // device registers: shared, mapped uncached (device.go)
)

// ErrAccess reports a protection beyond the maximum a mapping was made
// with (EACCES).
var ErrAccess = errors.New("mm: protection exceeds what the mapping allows")

// maxFlags returns the kind bits recording the maximum protection max.
func maxFlags(max vma.Prot) uint32 {
	var f uint32
	if max&vma.Read == 0 {
		f |= regionNoRead
	}
	if max&vma.Write == 0 {
		f |= regionNoWrite
	}
	if max&vma.Exec == 0 {
		f |= regionNoExec
	}
	return f
}

// maxProt returns the maximum protection recorded in a region's kind bits.
func maxProt(flags uint32) vma.Prot {
	p := vma.Read | vma.Write | vma.Exec
	if flags&regionNoRead != 0 {
		p &^= vma.Read
	}
	if flags&regionNoWrite != 0 {
		p &^= vma.Write
	}
	if flags&regionNoExec != 0 {
		p &^= vma.Exec
	}
	return p
}

// sharedRef is one mapping of a memory object: the reference on the
// object it holds, shared by the pieces the mapping was cut into, and
// dropped when the last piece goes.
type sharedRef struct {
	pieces  int
	release func()
}

// sharedMapping records that frames[i] backs the page start+i*PageSize of
// [start, end).
type sharedMapping struct {
	start, end uint64
	frames     []uint64
	ref        *sharedRef
}

// layout is an address space's regions and shared records.
type layout struct {
	set    vma.Set
	shared []sharedMapping
}

// mapRegion makes [start, end) one mapping with prot and kind flags,
// replacing whatever was there (as mmap MAP_FIXED; the caller has dropped
// the page-table entries): the shared records there are cut.
func (l *layout) mapRegion(start, end uint64, prot vma.Prot, flags uint32) error {
	if prot&^maxProt(flags) != 0 {
		return ErrAccess
	}
	if err := l.set.Map(start, end, prot, flags); err != nil {
		return ErrNoMem
	}
	l.cutShared(start, end)
	return nil
}

// unmapRegion removes [start, end) (the caller has dropped the page-table
// entries), and the shared records there.
func (l *layout) unmapRegion(start, end uint64) error {
	if err := l.set.Unmap(start, end); err != nil {
		return ErrNoMem
	}
	l.cutShared(start, end)
	return nil
}

// addShared records that frames are mapped from start on (the caller has
// made the region with set.Map), holding the reference release drops.
func (l *layout) addShared(start uint64, frames []uint64, release func()) {
	end := start + uint64(len(frames))*PageSize
	l.shared = append(l.shared, sharedMapping{start: start, end: end, frames: frames, ref: &sharedRef{pieces: 1, release: release}})
}

// sharedFrame returns the object frame backing addr in a shared region.
func (l *layout) sharedFrame(addr uint64) (uint64, bool) {
	for _, m := range l.shared {
		if addr >= m.start && addr < m.end {
			return m.frames[(addr-m.start)/PageSize], true
		}
	}
	return 0, false
}

// cutShared removes [start, end) from the shared records, as the regions
// there are being unmapped or replaced: a record inside it goes, one
// straddling an edge is trimmed, one around it is split in two. A mapping's
// reference on its object is dropped when its last piece goes.
func (l *layout) cutShared(start, end uint64) {
	var gone []*sharedRef
	kept := l.shared[:0]
	var extra []sharedMapping // right-hand pieces of split records
	for _, m := range l.shared {
		if m.end <= start || m.start >= end {
			kept = append(kept, m)
			continue
		}
		pieces := 0
		if m.start < start {
			left := m
			left.end = start
			left.frames = m.frames[:(start-m.start)/PageSize]
			kept = append(kept, left)
			pieces++
		}
		if m.end > end {
			right := m
			right.start = end
			right.frames = m.frames[(end-m.start)/PageSize:]
			extra = append(extra, right)
			pieces++
		}
		m.ref.pieces += pieces - 1
		if m.ref.pieces == 0 {
			gone = append(gone, m.ref)
		}
	}
	l.shared = append(kept, extra...)
	for _, r := range gone {
		if r.release != nil {
			r.release()
		}
	}
}

// protect sets the protection of [start, end) to prot, as mprotect does:
// every page must be mapped (else ErrNoMem) and allow prot (else
// ErrAccess); the first offending page in address order decides, and on
// any error nothing changes.
func (l *layout) protect(start, end uint64, prot vma.Prot) error {
	next := start
	for i := l.set.FirstOverlap(start, end); i < l.set.Len(); i++ {
		r := l.set.At(i)
		if r.Start >= end {
			break
		}
		if r.Start > next {
			return ErrNoMem
		}
		if prot&^maxProt(r.Flags) != 0 {
			return ErrAccess
		}
		next = r.End
	}
	if next < end {
		return ErrNoMem
	}
	if err := l.set.Protect(start, end, prot); err != nil {
		if errors.Is(err, vma.ErrNotMapped) {
			return ErrNoMem
		}
		return ErrInvalid
	}
	return nil
}

// check verifies the layout's invariants: the regions' own, the shared
// records page-aligned, disjoint, each with one frame per page, covering
// exactly the pages of the shared regions, and each reference counting
// its pieces.
func (l *layout) check() error {
	if err := l.set.Check(); err != nil {
		return err
	}
	pieces := map[*sharedRef]int{}
	var recorded uint64
	for i, m := range l.shared {
		if m.start >= m.end || m.start%PageSize != 0 || m.end%PageSize != 0 ||
			uint64(len(m.frames)) != (m.end-m.start)/PageSize || m.ref == nil {
			return errors.New("mm: malformed shared record")
		}
		for _, o := range l.shared[:i] {
			if m.start < o.end && o.start < m.end {
				return errors.New("mm: overlapping shared records")
			}
		}
		for va := m.start; va < m.end; va += PageSize {
			r, ok := l.set.Find(va)
			if !ok || r.Flags&regionShared == 0 {
				return errors.New("mm: shared record outside a shared region")
			}
		}
		recorded += m.end - m.start
		pieces[m.ref]++
	}
	var regions uint64
	for i := 0; i < l.set.Len(); i++ {
		if r := l.set.At(i); r.Flags&regionShared != 0 {
			regions += r.End - r.Start
		}
	}
	if regions != recorded {
		return errors.New("mm: shared region pages without a record")
	}
	for ref, n := range pieces {
		if ref.pieces != n {
			return errors.New("mm: shared reference does not count its pieces")
		}
	}
	return nil
}
