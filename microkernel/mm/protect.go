package mm

import "valence.dev/microkernel/arch/amd64"

// imageProtected records that protectImage has remapped the kernel window
// with 4 KiB pages.
var imageProtected bool

// ImageProtection summarizes what protectImage did, for the boot log.
type ImageProtection struct {
	Exec, ReadOnly, Write uint64 // bytes mapped r-x, r-- and rw-
}

// protectImage replaces the boot mapping of the kernel window, 2 MiB pages
// readable, writable and executable for its whole first GiB, with 4 KiB
// pages carrying each segment's own permissions: code read-only and
// executable, read-only data neither writable nor executable, data and bss
// writable and not executable (W^X). Everything else in the window, such
// as the Multiboot header page before the image, becomes unmapped. The
// direct map's aliases of the read-only segments lose their write bit too,
// so no address in the kernel both maps the kernel's code and can write it,
// and the direct map as a whole becomes not executable.
//
// entry32 built the tables being changed (in the kernel's bss); the page
// tables that replace its 2 MiB entries come from the frame allocator.
// Mappings are global, so the caller flushes with flushGlobal.
func protectImage(segs []Segment) (ImageProtection, error) {
	var p ImageProtection
	pd, ok := bootPD(KernelBase)
	if !ok {
		return p, InitError("mm: the kernel window is not mapped with 2 MiB pages as entry32 left it")
	}
	for i := range pd {
		base := KernelBase + uint64(i)*amd64.HugePageSize
		if !touches(segs, base, base+amd64.HugePageSize) {
			pd[i] = 0
			continue
		}
		pt, ok := AllocFrame()
		if !ok {
			return p, InitError("mm: out of memory protecting the kernel image")
		}
		ptes := table(pt)
		for j := range ptes {
			va := base + uint64(j)*PageSize
			flags, present := pageFlags(segs, va)
			if !present {
				continue
			}
			ptes[j] = (va - KernelBase) | flags | amd64.PTEPresent | amd64.PTEGlobal
			switch {
			case flags&amd64.PTEWrite != 0:
				p.Write += PageSize
			case flags&nxBit == 0 && nxBit != 0:
				p.Exec += PageSize
			default:
				p.ReadOnly += PageSize
			}
		}
		pd[i] = pt | amd64.PTEPresent | amd64.PTEWrite
	}
	if err := protectDirectMap(segs); err != nil {
		return p, err
	}
	// entry32 mapped the first 4 GiB executable; nothing runs from the
	// direct map, so no-execute goes on its PML4 entry, covering all of it
	// (SDM vol. 3A 4.6.2: NX at any level forbids fetches below it).
	table(kernelRoot)[amd64.Index(DirectMapBase, 4)] |= nxBit
	imageProtected = true
	return p, nil
}

// protectDirectMap splits the direct map's 2 MiB pages that hold a
// read-only kernel segment into 4 KiB pages and clears the write bit of
// the segment's pages. The rest stays read-write and not executable, as
// the whole direct map is.
func protectDirectMap(segs []Segment) error {
	for _, s := range segs {
		if s.Write {
			continue
		}
		pa, end := pageDown(s.Start)-KernelBase, pageUp(s.End)-KernelBase
		for ; pa < end; pa += PageSize {
			e, err := directMapPTE(pa)
			if err != nil {
				return err
			}
			// A page shared with a writable segment stays writable.
			if flags, _ := pageFlags(segs, KernelBase+pa); flags&amd64.PTEWrite == 0 {
				*e &^= amd64.PTEWrite
			}
		}
	}
	return nil
}

// directMapPTE returns the 4 KiB entry mapping physical pa in the direct
// map, splitting the 2 MiB page that holds it the first time.
func directMapPTE(pa uint64) (*uint64, error) {
	va := DirectMapBase + pa
	pd, ok := bootPD(va)
	if !ok {
		return nil, InitError("mm: the direct map does not cover the kernel image")
	}
	e := &pd[amd64.Index(va, 2)]
	if *e&amd64.PTEPresent == 0 {
		return nil, InitError("mm: the direct map does not cover the kernel image")
	}
	if *e&amd64.PTEHuge != 0 {
		pt, ok := AllocFrame()
		if !ok {
			return nil, InitError("mm: out of memory protecting the kernel image")
		}
		huge := *e
		base := huge & amd64.PTEAddrMask &^ (amd64.HugePageSize - 1)
		// The same flags, minus the page-size bit (bit 7 is PAT in a
		// 4 KiB entry, so it must not carry over).
		flags := huge &^ amd64.PTEAddrMask &^ amd64.PTEHuge
		ptes := table(pt)
		for j := range ptes {
			ptes[j] = (base + uint64(j)*PageSize) | flags
		}
		*e = pt | amd64.PTEPresent | amd64.PTEWrite
	}
	pt := table(*e & amd64.PTEAddrMask)
	return &pt[amd64.Index(va, 1)], nil
}

// bootPD returns the page directory covering va, whose entries entry32
// (or extendDirectMap) made 2 MiB pages.
func bootPD(va uint64) (*amd64.PageTable, bool) {
	e := table(kernelRoot)[amd64.Index(va, 4)]
	if e&amd64.PTEPresent == 0 {
		return nil, false
	}
	e = table(e & amd64.PTEAddrMask)[amd64.Index(va, 3)]
	if e&amd64.PTEPresent == 0 || e&amd64.PTEHuge != 0 {
		return nil, false
	}
	return table(e & amd64.PTEAddrMask), true
}

// touches reports whether any segment has a byte in [start, end).
func touches(segs []Segment, start, end uint64) bool {
	for _, s := range segs {
		if s.Start < end && s.End > start {
			return true
		}
	}
	return false
}

// flushGlobal drops every TLB entry, global ones included, by toggling
// CR4.PGE (SDM vol. 3A 4.10.4.1: a write to CR4 that changes PGE
// invalidates all TLB entries).
func flushGlobal() {
	cr4 := amd64.ReadCR4()
	if cr4&amd64.CR4PGE != 0 {
		amd64.WriteCR4(cr4 &^ amd64.CR4PGE)
		amd64.WriteCR4(cr4)
		return
	}
	amd64.WriteCR3(amd64.ReadCR3())
}
