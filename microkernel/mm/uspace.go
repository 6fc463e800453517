package mm

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/mm/vma"
)

// User address spaces. Each process has its own PML4: the lower half holds
// its mappings, user-accessible; the upper half is a copy of the kernel's
// (entries 256-511 never change after boot, see doc.go), so traps and system
// calls run on whatever page tables are loaded.
//
// Unlike the kernel heap window, user address spaces are managed from
// goroutines (the threads' system calls and page faults), so each has a
// mutex; page-table writes and frame allocation additionally run with
// interrupts off because the frame allocator is shared with trap handlers.

// User address range: [UserMin, UserMax). The first 64 KiB stay unmapped so
// that null pointer dereferences (with offsets) fault, as on Linux.
const (
	UserMin = 0x10000
	UserMax = 0x0000_7fff_ffff_f000
)

// Errors of address-space operations.
var (
	ErrFault   = errors.New("mm: bad address")
	ErrNoMem   = errors.New("mm: out of memory")
	ErrInvalid = errors.New("mm: invalid argument")
	ErrExist   = errors.New("mm: range already mapped")
)

// userFrames counts frames owned by user address spaces (pages and page
// tables), so that tests can check that processes give everything back.
var userFrames atomic.Int64

// UserFrames returns the number of frames currently owned by user address
// spaces.
func UserFrames() int64 { return userFrames.Load() }

// AddressSpace is a process's virtual memory.
type AddressSpace struct {
	mu      sync.Mutex
	root    uint64 // physical address of the PML4
	regions []vma.Region
	layout        // the regions (set) and shared records, see ulayout.go
	pages   int64 // frames owned: mapped pages and page tables
	dead    bool
	refs    atomic.Int32 // processes sharing it (vfork children share their parent's)
}

// maxRegions bounds a process's mappings, like Linux's vm.max_map_count.
const maxRegions = 4096

// NewAddressSpace creates an empty address space sharing the kernel half.
func NewAddressSpace() (*AddressSpace, error) {
	fl := Lock()
	root, ok := AllocUserFrame()
	if ok {
		k, u := table(kernelRoot), table(root)
		for i := 256; i < amd64.TableEntries; i++ {
			u[i] = k[i]
		}
	}
	Unlock(fl)
	if !ok {
		return nil, ErrNoMem
	}
	as := &AddressSpace{root: root, regions: make([]vma.Region, maxRegions), pages: 1}
	as.refs.Store(1)
	as.set.Init(as.regions, UserMin, UserMax)
	userFrames.Add(1)
	return as, nil
}

// Root returns the physical address of the PML4, for CR3. Only
// rt.EnterUser loads it, with interrupts off (see there); whoever runs a
// thread in the address space holds it retained meanwhile, so CR3 never
// holds a freed PML4 (Destroy moves CR3 off the one it frees).
func (as *AddressSpace) Root() uint64 { return as.root }

// Pages returns the number of frames the address space owns.
func (as *AddressSpace) Pages() int64 {
	as.mu.Lock()
	defer as.mu.Unlock()
	return as.pages
}

// userPTE returns the PTE bits for a user page.
func userPTE(p vma.Prot) uint64 {
	f := uint64(amd64.PTEPresent | amd64.PTEUser)
	if p&vma.Write != 0 {
		f |= amd64.PTEWrite
	}
	if p&vma.Exec == 0 {
		f |= nxBit
	}
	return f
}

func checkRange(addr, length uint64) (uint64, error) {
	if addr&(PageSize-1) != 0 || length == 0 {
		return 0, ErrInvalid
	}
	end := addr + pageUp(length)
	if end < addr || addr < UserMin || end > UserMax {
		return 0, ErrInvalid
	}
	return end, nil
}

// Map creates a mapping of anonymous zero-filled memory, as mmap does:
// with fixed, exactly at addr (replacing what is there); otherwise at addr
// if that range is free, else wherever there is room. Flags are stored
// with the region (the kind bits of vma.Region, see ulayout.go; 0 for
// plain anonymous memory, which mprotect may make anything).
func (as *AddressSpace) Map(addr, length uint64, prot vma.Prot, fixed, noReplace bool, flags uint32) (uint64, error) {
	if length == 0 || length > UserMax {
		return 0, ErrInvalid
	}
	length = pageUp(length)
	as.mu.Lock()
	defer as.mu.Unlock()
	if fixed {
		end, err := checkRange(addr, length)
		if err != nil {
			return 0, err
		}
		if noReplace && !as.set.IsFree(addr, end) {
			return 0, ErrExist
		}
	} else {
		addr &^= PageSize - 1
		if addr < UserMin || addr+length > UserMax || addr+length < addr || !as.set.IsFree(addr, addr+length) {
			a, err := as.set.FindFree(length, PageSize, mmapBase)
			if err != nil {
				return 0, ErrNoMem
			}
			addr = a
		}
	}
	if prot&^maxProt(flags) != 0 {
		return 0, ErrAccess
	}
	as.releaseLocked(addr, addr+length)
	if err := as.mapRegion(addr, addr+length, prot, flags); err != nil {
		return 0, err
	}
	return addr, nil
}

// mmapBase is where mmap looks for room when no usable hint is given:
// well above a static binary's image and heap, well below the stack.
const mmapBase = 0x0000_2000_0000_0000

// Unmap removes mappings in [addr, addr+length), as munmap does.
func (as *AddressSpace) Unmap(addr, length uint64) error {
	end, err := checkRange(addr, length)
	if err != nil {
		return err
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	as.releaseLocked(addr, end)
	return as.unmapRegion(addr, end)
}

// Protect changes the protection of [addr, addr+length), as mprotect does.
// It never exceeds the maximum protection any page's mapping was made with
// (ErrAccess); a range with an unmapped page is ErrNoMem. Nothing changes
// on an error.
func (as *AddressSpace) Protect(addr, length uint64, prot vma.Prot) error {
	end, err := checkRange(addr, length)
	if err != nil {
		return err
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	if err := as.protect(addr, end, prot); err != nil {
		return err
	}
	fl := Lock()
	if prot == 0 {
		walkRange(as.root, addr, end, opHide, 0)
	} else {
		walkRange(as.root, addr, end, opProtect, userPTE(prot))
	}
	Unlock(fl)
	return nil
}

// Discard drops the pages of [addr, addr+length) but keeps the mapping, as
// madvise(MADV_DONTNEED) does: the next access sees zeros.
func (as *AddressSpace) Discard(addr, length uint64) error {
	end, err := checkRange(addr, length)
	if err != nil {
		return err
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	as.releaseLocked(addr, end)
	return nil
}

// releaseLocked frees the frames mapped in [start, end).
func (as *AddressSpace) releaseLocked(start, end uint64) {
	fl := Lock()
	n := walkRange(as.root, start, end, opRelease, 0)
	Unlock(fl)
	as.pages -= int64(n)
	userFrames.Add(-int64(n))
}

// Fault resolves a page fault at addr: if a mapping allows the access,
// the page is supplied (zero-filled) and Fault returns nil; otherwise
// ErrFault, and the caller delivers SIGSEGV.
func (as *AddressSpace) Fault(addr uint64, write, exec bool) error {
	as.mu.Lock()
	defer as.mu.Unlock()
	_, err := as.faultLocked(addr, write, exec)
	return err
}

// faultLocked makes the page at addr present with the access allowed and
// returns its frame.
func (as *AddressSpace) faultLocked(addr uint64, write, exec bool) (uint64, error) {
	if addr < UserMin || addr >= UserMax || as.dead {
		return 0, ErrFault
	}
	r, ok := as.set.Find(addr)
	if !ok || r.Prot == 0 || write && r.Prot&vma.Write == 0 || exec && r.Prot&vma.Exec == 0 {
		return 0, ErrFault
	}
	va := pageDown(addr)
	if r.Flags&regionShared != 0 {
		if e, ok := as.lookupLocked(va); ok && e&amd64.PTEPresent != 0 {
			return e & amd64.PTEAddrMask, nil
		}
		return as.mapSharedPage(va, r)
	}
	fl := Lock()
	defer Unlock(fl)
	before := countTables(as.root, va)
	e, ok := walk(as.root, va, false, 0)
	if ok && *e&amd64.PTEPresent != 0 {
		return *e & amd64.PTEAddrMask, nil // another thread got here first
	}
	if ok && *e&swProtNone != 0 && *e&swShared == 0 {
		// A page hidden by PROT_NONE (an object's frame, swShared, never
		// comes back in anonymous memory: Map and Unmap drop the entries).
		*e = *e&amd64.PTEAddrMask | userPTE(r.Prot)
		return *e & amd64.PTEAddrMask, nil
	}
	pa, ok := AllocUserFrame()
	if !ok {
		return 0, ErrNoMem
	}
	if !MapPage(as.root, va, pa, userPTE(r.Prot)) {
		FreeFrame(pa)
		return 0, ErrNoMem
	}
	added := int64(1 + countTables(as.root, va) - before)
	as.pages += added
	userFrames.Add(added)
	return pa, nil
}

// countTables counts the page-table pages that translate va (1 to 3 below
// the PML4), so that Fault can account for tables MapPage created.
func countTables(root, va uint64) int {
	n := 0
	t := table(root)
	for level := 4; level > 1; level-- {
		e := t[amd64.Index(va, level)]
		if e&amd64.PTEPresent == 0 {
			break
		}
		n++
		t = table(e & amd64.PTEAddrMask)
	}
	return n
}

// CopyOut copies b to user address addr, supplying pages as a user write
// would. It never faults: the kernel writes through the direct map.
func (as *AddressSpace) CopyOut(addr uint64, b []byte) error {
	return as.copy(addr, b, true)
}

// CopyIn copies from user address addr into b.
func (as *AddressSpace) CopyIn(addr uint64, b []byte) error {
	return as.copy(addr, b, false)
}

func (as *AddressSpace) copy(addr uint64, b []byte, out bool) error {
	if addr+uint64(len(b)) < addr || addr+uint64(len(b)) > UserMax {
		return ErrFault
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	for len(b) > 0 {
		pa, err := as.faultLocked(addr, out, false)
		if err != nil {
			return err
		}
		off := addr & (PageSize - 1)
		n := PageSize - off
		if n > uint64(len(b)) {
			n = uint64(len(b))
		}
		page := PhysBytes(pa+off, n)
		if out {
			copy(page, b[:n])
		} else {
			copy(b[:n], page)
		}
		b = b[n:]
		addr += n
	}
	return nil
}

// ReadString reads a NUL-terminated string of at most max bytes from user
// memory.
func (as *AddressSpace) ReadString(addr uint64, max int) (string, error) {
	var buf []byte
	var chunk [256]byte
	for len(buf) < max {
		n := uint64(len(chunk)) - addr%uint64(len(chunk)) // stay within a page
		if err := as.CopyIn(addr, chunk[:n]); err != nil {
			return "", err
		}
		for i := uint64(0); i < n; i++ {
			if chunk[i] == 0 {
				if len(buf)+int(i) > max {
					break // the last chunk went past max before its NUL
				}
				return string(append(buf, chunk[:i]...)), nil
			}
		}
		buf = append(buf, chunk[:n]...)
		addr += n
	}
	return "", fmt.Errorf("%w: string longer than %d bytes", ErrInvalid, max)
}

// Regions returns a copy of the mappings, for /proc-style reporting.
func (as *AddressSpace) Regions() []vma.Region {
	as.mu.Lock()
	defer as.mu.Unlock()
	out := make([]vma.Region, as.set.Len())
	for i := range out {
		out[i] = as.set.At(i)
	}
	return out
}

// Retain adds a user of the address space: a vfork child sharing it, or a
// thread about to run in it (held until its trap is handled).
func (as *AddressSpace) Retain() { as.refs.Add(1) }

// Release drops a user; the last one destroys the address space.
func (as *AddressSpace) Release() {
	if as.refs.Add(-1) == 0 {
		as.Destroy()
	}
}

// Destroy frees every frame of the address space, page tables included.
// The caller must make sure no thread runs in it and that CR3 does not
// point at it (see ActivateKernel).
func (as *AddressSpace) Destroy() {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.dead {
		return
	}
	as.dead = true
	fl := Lock()
	if amd64.ReadCR3() == as.root {
		amd64.WriteCR3(kernelRoot)
	}
	n := walkRange(as.root, 0, UserMax, opRelease, 0)
	n += freeTables(as.root)
	Unlock(fl)
	userFrames.Add(-int64(n))
	as.pages = 0
	as.cutShared(0, ^uint64(0))
}

// freeTables frees the lower-half page tables under root and root itself,
// returning how many frames that was.
func freeTables(root uint64) int {
	n := 0
	pml4 := table(root)
	for i := 0; i < 256; i++ {
		if pml4[i]&amd64.PTEPresent == 0 {
			continue
		}
		pdpt := table(pml4[i] & amd64.PTEAddrMask)
		for j := 0; j < amd64.TableEntries; j++ {
			if pdpt[j]&amd64.PTEPresent == 0 {
				continue
			}
			pd := table(pdpt[j] & amd64.PTEAddrMask)
			for k := 0; k < amd64.TableEntries; k++ {
				if pd[k]&amd64.PTEPresent != 0 {
					FreeFrame(pd[k] & amd64.PTEAddrMask)
					n++
				}
			}
			FreeFrame(pdpt[j] & amd64.PTEAddrMask)
			n++
		}
		FreeFrame(pml4[i] & amd64.PTEAddrMask)
		n++
		pml4[i] = 0
	}
	FreeFrame(root)
	return n + 1
}

// ActivateKernel loads the kernel's own page tables, which have no user
// half.
func ActivateKernel() {
	if amd64.ReadCR3() != kernelRoot {
		amd64.WriteCR3(kernelRoot)
	}
}

// lookupLocked returns the level-1 entry for va, with interrupts off
// around the walk.
func (as *AddressSpace) lookupLocked(va uint64) (uint64, bool) {
	fl := Lock()
	defer Unlock(fl)
	return Lookup(as.root, va)
}
