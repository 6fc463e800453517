package mm

import "valence.dev/microkernel/arch/amd64"

// nxBit is PTENoExec when the CPU supports NX, else zero (setting the bit
// without EFER.NXE would make the entry reserved and every access fault).
var nxBit uint64

// NX returns the no-execute PTE bit, or zero without NX support.
func NX() uint64 { return nxBit }

// walk returns the level-1 entry for va under the PML4 at root. With create,
// missing intermediate tables are allocated with intermediate flags; without,
// walk reports false when one is missing. A huge page on the way also ends the
// walk with false: those are only used for the direct map (and, until Init
// protects it, the kernel image), which is never remapped page by page.
func walk(root, va uint64, create bool, intermediate uint64) (*uint64, bool) {
	t := table(root)
	for level := 4; level > 1; level-- {
		e := &t[amd64.Index(va, level)]
		if *e&amd64.PTEPresent == 0 {
			if !create {
				return nil, false
			}
			// A table for a user mapping is user memory: it must not
			// eat into the kernel's reserve (reserve.go).
			var pa uint64
			var ok bool
			if intermediate&amd64.PTEUser != 0 {
				pa, ok = AllocUserFrame()
			} else {
				pa, ok = AllocFrame()
			}
			if !ok {
				return nil, false
			}
			*e = pa | intermediate
		} else if *e&amd64.PTEHuge != 0 {
			return nil, false
		} else if create && *e&intermediate != intermediate {
			*e |= intermediate & (amd64.PTEUser | amd64.PTEWrite)
		}
		t = table(*e & amd64.PTEAddrMask)
	}
	return &t[amd64.Index(va, 1)], true
}

// MapPage maps the 4 KiB page at va to frame pa with flags (which must include
// PTEPresent) in the tree at root, allocating tables as needed. Intermediate
// tables get present|writable, plus user when flags has it.
func MapPage(root, va, pa, flags uint64) bool {
	inter := uint64(amd64.PTEPresent | amd64.PTEWrite)
	inter |= flags & amd64.PTEUser
	e, ok := walk(root, va, true, inter)
	if !ok {
		return false
	}
	old := *e
	*e = pa&amd64.PTEAddrMask | flags
	if old&amd64.PTEPresent != 0 {
		amd64.Invlpg(uintptr(va))
	}
	return true
}

// Lookup returns the level-1 entry mapping va, if its tables exist.
func Lookup(root, va uint64) (uint64, bool) {
	e, ok := walk(root, va, false, 0)
	if !ok {
		return 0, false
	}
	return *e, true
}

// rangeOp is what walkRange does to each present page.
type rangeOp int

const (
	opRelease rangeOp = iota // unmap and free the frame
	opProtect                // replace the permission bits
	opHide                   // make not present, keeping the frame (PROT_NONE)
)

// swProtNone marks a level-1 entry whose page was hidden by
// mprotect(PROT_NONE): not present, but still owning the frame in its address
// bits. The CPU ignores every other bit of a non-present entry (SDM vol. 3A
// §4.5, "ignored" bits), so software may use them.
const swProtNone = 1 << 9

// swShared marks a level-1 entry whose frame belongs to a memory object
// shared between address spaces: unmapping clears the entry but leaves the
// frame to its owner.
const swShared = 1 << 10

// permBits are the PTE bits opProtect replaces.
const permBits = amd64.PTEWrite | amd64.PTEUser | amd64.PTENoExec

// walkRange applies op to every present 4 KiB page in [start, end) under
// root (and, for opProtect, to pages hidden by opHide); perm is the complete
// set of PTE flags for opProtect (present, user, global as appropriate).
// Absent tables are
// skipped a whole table's span at a time so that huge reserved-but-untouched
// ranges cost little. It returns the number of pages
// it acted on.
func walkRange(root, start, end uint64, op rangeOp, perm uint64) int {
	n := 0
	va := start
	for va < end {
		t := table(root)
		skip := uint64(0)
		var e *uint64
		for level := 4; level >= 1; level-- {
			e = &t[amd64.Index(va, level)]
			if level == 1 && *e&swProtNone != 0 {
				break
			}
			if *e&amd64.PTEPresent == 0 {
				skip = 1 << (amd64.PageShift + 9*uint(level-1))
				break
			}
			if level > 1 && *e&amd64.PTEHuge != 0 {
				skip = 1 << (amd64.PageShift + 9*uint(level-1))
				e = nil
				break
			}
			if level > 1 {
				t = table(*e & amd64.PTEAddrMask)
			}
		}
		if skip != 0 {
			next := (va &^ (skip - 1)) + skip
			if next <= va { // wrapped past the top of the address space
				break
			}
			va = next
			continue
		}
		switch {
		case op == opRelease:
			if *e&swShared == 0 {
				FreeFrame(*e & amd64.PTEAddrMask)
			} else {
				n-- // not this address space's frame
			}
			*e = 0
		case op == opHide:
			*e = *e&(amd64.PTEAddrMask|swShared) | swProtNone
		case op == opProtect && *e&swProtNone != 0:
			*e = *e&(amd64.PTEAddrMask|swShared) | perm
		case op == opProtect:
			*e = *e&^permBits | perm&permBits
		}
		amd64.Invlpg(uintptr(va))
		n++
		va += PageSize
	}
	return n
}
