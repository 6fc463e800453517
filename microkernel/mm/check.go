package mm

import (
	"cmp"
	"fmt"
	"slices"
	"sync/atomic"

	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/mm/frame"
	"valence.dev/microkernel/mm/vma"
)

// Invariant checkers for the kernel's debug mode (docs/debugging.md): proc
// runs them after the system calls that change frames or mappings. Each
// returns an error describing the first violation it finds, or nil; none
// panics. They read the page tables through the direct map and, except
// for the part of CheckFrames that runs with interrupts off, allocate, so
// they must never run in trap context.
//
// The work is done by functions that take the page tables as a tableFunc
// (and the frame bitmap as a usedFunc), so that the hosted tests can run
// them over fake tables; the exported entry points pass the real ones.

// tableFunc returns the page-table page at a physical address.
type tableFunc func(pa uint64) *amd64.PageTable

// usedFunc reports whether a frame is allocated in the frame bitmap.
type usedFunc func(pa uint64) bool

// knownRegionFlags are every kind bit a user region may carry (ulayout.go).
const knownRegionFlags = regionShared | regionNoRead | regionNoWrite | regionNoExec | regionDevice

// Slots of the PML4: the user half, and the kernel heap window.
const (
	userSlots = 256
	heapFirst = HeapBase >> 39 & (amd64.TableEntries - 1)
	heapLast  = heapFirst + HeapSize>>39
)

// walkTables visits the page-table entries under root that translate PML4
// slots [first, last): every nonzero entry, at every level, in address
// order, with the address it translates and its level (4 is the PML4, 1 a
// page table). It descends into the table a present entry above level 1
// points at unless the entry maps a huge page. visit returns false to stop
// the walk. It allocates nothing (the heap check runs with interrupts off).
func walkTables(tbl tableFunc, root uint64, first, last int, visit func(va, e uint64, level int) bool) {
	pml4 := tbl(root)
	for i := first; i < last && i < amd64.TableEntries; i++ {
		va := uint64(i) << 39
		if i >= 256 {
			va |= 0xffff << 48 // canonical upper half
		}
		if !walkEntry(tbl, pml4[i], va, 4, visit) {
			return
		}
	}
}

// walkEntry visits e, the entry at level translating va, and what it
// points at; it reports false if visit stopped the walk.
func walkEntry(tbl tableFunc, e, va uint64, level int, visit func(va, e uint64, level int) bool) bool {
	if e == 0 {
		return true
	}
	if !visit(va, e, level) {
		return false
	}
	if level == 1 || e&amd64.PTEPresent == 0 || e&amd64.PTEHuge != 0 {
		return true
	}
	t := tbl(e & amd64.PTEAddrMask)
	span := uint64(1) << (amd64.PageShift + 9*uint(level-2))
	for j := range t {
		if !walkEntry(tbl, t[j], va+uint64(j)*span, level-1, visit) {
			return false
		}
	}
	return true
}

// Check verifies the address space (debug mode): its regions are sorted,
// disjoint, page-aligned, inside the user half, with known kind bits and
// a protection within their maximum; its shared records are well formed
// (layout.check) and name frames still allocated; every entry of its page
// tables in the user half lies inside a region and gives no more access
// than the region allows (a shared region's entries map the frames its
// records name, a private region's entries frames of their own, each
// once); its kernel half is the kernel's; every table and page frame is
// allocated; and its page count is what the tables hold. A destroyed
// address space must own nothing.
func (as *AddressSpace) Check() error {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.dead {
		if as.pages != 0 || len(as.shared) != 0 {
			return fmt.Errorf("mm: destroyed address space still owns %d pages and %d shared records", as.pages, len(as.shared))
		}
		return nil
	}
	return checkSpace(table, frameUsed, nxBit, table(kernelRoot), as.root, &as.layout, as.pages)
}

// CheckShared is the cheap part of Check, for calls that cannot change the
// address space's mappings but can free a memory object (closing or
// revoking a capability): every frame its shared records name is still
// allocated, so no object mapped here has been freed under the mapping.
func (as *AddressSpace) CheckShared() error {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.dead {
		return nil
	}
	_, err := sharedFrames(&as.layout, frameUsed)
	return err
}

// sharedFrames checks that every frame l's shared records name is
// allocated (the memory object is alive) and returns them as a set.
func sharedFrames(l *layout, used usedFunc) (map[uint64]bool, error) {
	shared := map[uint64]bool{}
	for _, m := range l.shared {
		for i, f := range m.frames {
			if f == 0 || f&(PageSize-1) != 0 || !used(f) {
				return nil, fmt.Errorf("mm: shared record [%#x, %#x) names frame %#x for %#x, which is not a live object's (freed, or not a frame)",
					m.start, m.end, f, m.start+uint64(i)*PageSize)
			}
			shared[f] = true
		}
	}
	return shared, nil
}

// frameUsed reports whether the frame at pa is allocated. It reads one
// bitmap word without Lock: the bitmap is only ever changed a word at a
// time with interrupts off on the one CPU, so the read sees the word
// before or after a change, and the frames Check asks about are the
// address space's own, which cannot be freed while it holds as.mu.
// (Taking Lock per frame made the check several times slower under TCG.)
func frameUsed(pa uint64) bool { return frames.Used(pa) }

// checkSpace is Check over tables read with tbl and frames tested with
// used; nx is the no-execute bit in use, kernel the PML4 whose upper half
// every address space shares (nil: not checked).
func checkSpace(tbl tableFunc, used usedFunc, nx uint64, kernel *amd64.PageTable, root uint64, l *layout, pages int64) error {
	if lo, hi := l.set.Window(); lo != UserMin || hi != UserMax {
		return fmt.Errorf("mm: region window [%#x, %#x), want the user half [%#x, %#x)", lo, hi, uint64(UserMin), uint64(UserMax))
	}
	if err := l.check(); err != nil {
		return err
	}
	for i := 0; i < l.set.Len(); i++ {
		r := l.set.At(i)
		if r.Flags&^knownRegionFlags != 0 {
			return fmt.Errorf("mm: region [%#x, %#x) has unknown kind bits %#x", r.Start, r.End, r.Flags)
		}
		if r.Flags&regionDevice != 0 && (r.Flags&regionShared == 0 || r.Prot&vma.Exec != 0 || maxProt(r.Flags)&vma.Exec != 0) {
			return fmt.Errorf("mm: device region [%#x, %#x) is not shared, or may be executed (kind %#x, prot %s)", r.Start, r.End, r.Flags, protString(r.Prot))
		}
		if r.Prot&^maxProt(r.Flags) != 0 {
			return fmt.Errorf("mm: region [%#x, %#x) has protection %s beyond its maximum %s", r.Start, r.End, protString(r.Prot), protString(maxProt(r.Flags)))
		}
	}
	shared, err := sharedFrames(l, used)
	if err != nil {
		return err
	}
	if kernel != nil {
		// The CPU sets the accessed bit in whichever copy it walks.
		t := tbl(root)
		for i := userSlots; i < amd64.TableEntries; i++ {
			if t[i]&^amd64.PTEAccessed != kernel[i]&^amd64.PTEAccessed {
				return fmt.Errorf("mm: PML4 entry %d is %#x, the kernel's is %#x", i, t[i], kernel[i])
			}
		}
	}
	if !used(root) {
		return fmt.Errorf("mm: the PML4 at %#x is a free frame", root)
	}
	held := int64(1) // the PML4
	owned := make([]ownedPage, 0, max(pages, 0))
	walkTables(tbl, root, 0, userSlots, func(va, e uint64, level int) bool {
		err = checkUserEntry(l, used, nx, va, e, level)
		if err != nil {
			return false
		}
		if level > 1 || e&swShared == 0 {
			held++ // a table, or a page of the address space's own
		}
		if level == 1 && e&swShared == 0 {
			owned = append(owned, ownedPage{e & amd64.PTEAddrMask, va})
		}
		return true
	})
	if err != nil {
		return err
	}
	// Each private page has a frame of its own, which is no object's.
	slices.SortFunc(owned, func(a, b ownedPage) int { return cmp.Compare(a.pa, b.pa) })
	for i, o := range owned {
		if i > 0 && owned[i-1].pa == o.pa {
			return fmt.Errorf("mm: frame %#x is mapped at both %#x and %#x", o.pa, owned[i-1].va, o.va)
		}
		if shared[o.pa] {
			return fmt.Errorf("mm: private page %#x maps frame %#x of a shared memory object", o.va, o.pa)
		}
	}
	if held != pages {
		return fmt.Errorf("mm: the address space counts %d pages, its page tables hold %d", pages, held)
	}
	return nil
}

// protString spells a protection as ls -l would, "r-x".
func protString(p vma.Prot) string {
	b := []byte("---")
	for i, bit := range []vma.Prot{vma.Read, vma.Write, vma.Exec} {
		if p&bit != 0 {
			b[i] = "rwx"[i]
		}
	}
	return string(b)
}

// ownedPage is a private page: its frame and address.
type ownedPage struct{ pa, va uint64 }

// checkUserEntry checks one nonzero entry of a user address space's
// tables by itself.
func checkUserEntry(l *layout, used usedFunc, nx, va, e uint64, level int) error {
	pa := e & amd64.PTEAddrMask
	if level > 1 {
		switch {
		case e&amd64.PTEPresent == 0:
			return fmt.Errorf("mm: level-%d entry %#x for %#x is not present but not empty", level, e, va)
		case e&amd64.PTEHuge != 0:
			return fmt.Errorf("mm: huge page %#x at %#x in the user half", e, va)
		case !used(pa):
			return fmt.Errorf("mm: level-%d table for %#x is on free frame %#x", level-1, va, pa)
		}
		return nil
	}
	present, hidden, isShared := e&amd64.PTEPresent != 0, e&swProtNone != 0, e&swShared != 0
	if !present && !hidden {
		return fmt.Errorf("mm: entry %#x for %#x is neither present nor hidden but not empty", e, va)
	}
	r, ok := l.set.Find(va)
	if !ok {
		return fmt.Errorf("mm: %#x is mapped (entry %#x) outside every region", va, e)
	}
	if isShared != (r.Flags&regionShared != 0) {
		return fmt.Errorf("mm: entry %#x for %#x: shared bit %v in a region with kind bits %#x", e, va, isShared, r.Flags)
	}
	if present {
		switch {
		case r.Prot == 0:
			return fmt.Errorf("mm: %#x is present (entry %#x) in a PROT_NONE region", va, e)
		case e&amd64.PTEUser == 0 || e&amd64.PTEGlobal != 0:
			return fmt.Errorf("mm: entry %#x for %#x lacks the user bit or has the global bit", e, va)
		case e&amd64.PTEWrite != 0 && r.Prot&vma.Write == 0:
			return fmt.Errorf("mm: %#x is writable (entry %#x) in a region with protection %s", va, e, protString(r.Prot))
		case nx != 0 && e&nx == 0 && r.Prot&vma.Exec == 0:
			return fmt.Errorf("mm: %#x is executable (entry %#x) in a region with protection %s", va, e, protString(r.Prot))
		}
	}
	if present && (e&amd64.PTENoCache != 0) != (r.Flags&regionDevice != 0) {
		return fmt.Errorf("mm: entry %#x for %#x: caching disabled %v in a region with kind bits %#x", e, va, e&amd64.PTENoCache != 0, r.Flags)
	}
	if isShared {
		if f, ok := l.sharedFrame(va); !ok || f != pa {
			return fmt.Errorf("mm: shared page %#x maps frame %#x, its record names %#x", va, pa, f)
		}
		return nil
	}
	if !used(pa) {
		return fmt.Errorf("mm: %#x maps free frame %#x (entry %#x)", va, pa, e)
	}
	return nil
}

// CheckFrames verifies physical memory (debug mode): the frame bitmap
// agrees with the allocator's free and allocated counters and its other
// invariants (frame.Allocator.Check); the kernel heap window's regions
// are valid; every page its tables hold lies in a heap region with no more
// access than the region, on an allocated frame, as do the tables
// themselves; their number is the heap's committed count, which the
// allocated frames cover; and the count of user frames is not negative.
// (That count is not compared with the allocator's: it changes after the
// frames do, outside the allocator's lock, so only a quiescent system
// could compare them; proc does, when the last process is gone.) It holds
// interrupts off while it reads the allocator and the heap, which trap
// handlers change.
func CheckFrames() error {
	// Interrupts off keep trap handlers out, but not the runtime: if this
	// goroutine's stack grows during the walk, the runtime may map or
	// release heap memory (a new stack, a synchronous scavenge) under
	// the check, which then compares counts from before and after. So a
	// check during which the heap or the allocator changed does not
	// count, and is made again.
	var v memViolation
	for try := 0; try < 4; try++ {
		stackHeadroom(try) // grow the stack now, if it must, not in the walk
		fl := Lock()
		c, f := committed, frames.FreeCount()
		v = checkPhys(table, &frames, nxBit, kernelRoot, &heap, committed)
		stable := committed == c && frames.FreeCount() == f
		Unlock(fl)
		if stable {
			break
		}
		v = memViolation{}
		frameCheckRetries.Add(1)
	}
	if v.what != "" {
		return v
	}
	if u := userFrames.Load(); u < 0 {
		return fmt.Errorf("mm: the user frame count is %d", u)
	}
	return nil
}

// stackHeadroom makes sure the goroutine's stack has 8 KiB free (far more
// than checkPhys needs), so that the walk does not grow it.
//
//go:noinline
func stackHeadroom(i int) byte {
	var b [8 << 10]byte
	b[i&(len(b)-1)] = 1
	return b[(i+1)&(len(b)-1)]
}

// frameCheckRetries counts the checks CheckFrames made again because
// memory changed under them.
var frameCheckRetries atomic.Uint64

// FrameCheckRetries returns how many times CheckFrames looked again
// because the heap or the allocator changed during a check.
func FrameCheckRetries() uint64 { return frameCheckRetries.Load() }

// memViolation is what checkPhys found. It is a value with constant
// messages, not an error made with fmt, because checkPhys runs with
// interrupts off and must not allocate.
type memViolation struct {
	what  string // "" if none
	err   error  // the frame allocator's own finding, if any
	va, e uint64 // the entry at fault, if any
	n, m  uint64 // the numbers that disagree, if any
}

func (v memViolation) Error() string {
	switch {
	case v.err != nil:
		return fmt.Sprintf("mm: %s: %v", v.what, v.err)
	case v.va == 0 && v.e == 0:
		return fmt.Sprintf("mm: %s (%d, %d)", v.what, v.n, v.m)
	}
	return fmt.Sprintf("mm: %s (address %#x, entry %#x)", v.what, v.va, v.e)
}

// checkPhys is CheckFrames over the allocator a, the heap regions set and
// the heap tables under root read with tbl. It allocates nothing.
func checkPhys(tbl tableFunc, a *frame.Allocator, nx, root uint64, set *vma.Set, committed uint64) memViolation {
	if err := a.Check(); err != nil {
		return memViolation{what: "frame allocator", err: err}
	}
	st := a.Stats()
	if st.Managed != st.Free+st.Allocated || st.Free != a.FreeCount() || st.HighWater < st.Allocated {
		return memViolation{what: "frame allocator statistics disagree", n: st.Managed, m: st.Free + st.Allocated}
	}
	if committed > st.Allocated {
		return memViolation{what: "the kernel heap commits more frames than are allocated", n: committed, m: st.Allocated}
	}
	return checkHeap(tbl, a.Used, nx, root, set, committed)
}

// checkHeap checks the kernel heap window's regions and page tables
// against committed. It allocates nothing.
func checkHeap(tbl tableFunc, used usedFunc, nx, root uint64, set *vma.Set, committed uint64) memViolation {
	var v memViolation
	if err := set.Check(); err != nil {
		v.what = "kernel heap: the regions are corrupt"
		return v
	}
	if lo, hi := set.Window(); lo != HeapBase || hi != HeapBase+HeapSize {
		v.what, v.n, v.m = "kernel heap: the region window is not the heap window", lo, hi
		return v
	}
	var pages uint64
	walkTables(tbl, root, heapFirst, heapLast, func(va, e uint64, level int) bool {
		v.va, v.e = va, e
		pa := e & amd64.PTEAddrMask
		if level > 1 {
			switch {
			case e&amd64.PTEPresent == 0:
				v.what = "kernel heap: a table entry is not present but not empty"
			case e&amd64.PTEHuge != 0:
				v.what = "kernel heap: a huge page in the heap window"
			case !used(pa):
				v.what = "kernel heap: a page table is on a free frame"
			}
			return v.what == ""
		}
		present := e&amd64.PTEPresent != 0
		if !present && e&swProtNone == 0 {
			v.what = "kernel heap: an entry is neither present nor hidden but not empty"
			return false
		}
		pages++
		r, ok := set.Find(va)
		switch {
		case !ok:
			v.what = "kernel heap: a page outside every heap region"
		case !used(pa):
			v.what = "kernel heap: a page on a free frame"
		case !present:
		case r.Prot == 0:
			v.what = "kernel heap: a present page in a PROT_NONE region"
		case e&amd64.PTEWrite != 0 && r.Prot&vma.Write == 0:
			v.what = "kernel heap: a writable page in a read-only region"
		case nx != 0 && e&nx == 0 && r.Prot&vma.Exec == 0:
			v.what = "kernel heap: an executable page in a non-executable region"
		case e&amd64.PTEUser != 0:
			v.what = "kernel heap: a heap page is user-accessible"
		}
		return v.what == ""
	})
	if v.what == "" && pages != committed {
		v = memViolation{what: "kernel heap: the committed count differs from the pages the tables hold", n: committed, m: pages}
	}
	return v
}
