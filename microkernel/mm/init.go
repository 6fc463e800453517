package mm

import (
	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/multiboot"
)

// BootLayout is what the boot path tells Init about memory it already uses.
type BootLayout struct {
	PML4        uint64 // physical address of the boot PML4 (in the kernel image)
	NX          bool   // the CPU supports no-execute pages
	KernelStart uint64 // physical extent of the kernel image, bss included
	KernelEnd   uint64
	Segments    []Segment // the image's loadable segments (ImageSegments)
}

// Summary describes physical memory after Init, for the boot log.
type Summary struct {
	Available   uint64 // bytes of usable RAM the firmware reported
	Free        uint64 // bytes free after the kernel, modules and bitmap
	Top         uint64 // end of the highest usable RAM
	BitmapBytes uint64
	Reserve     uint64 // bytes kept for the kernel's heap (reserve.go)
	Regions     int
	Image       ImageProtection
}

var availBuf [multiboot.MaxRegions]multiboot.Region

// InitError says which step of Init failed. It is a string constant type so
// that it works before the Go runtime has run package initialisers.
type InitError string

func (e InitError) Error() string { return string(e) }

// Init sets up the frame allocator and the kernel's page tables from the
// firmware memory map. It runs before the Go runtime starts, on the page
// tables entry32 built: the direct map covers the first 4 GiB.
func Init(info *multiboot.Info, b BootLayout) (Summary, error) {
	var s Summary
	kernelRoot = b.PML4
	if b.NX {
		nxBit = amd64.PTENoExec
	}
	noteRAM(info)
	excl := [2]multiboot.Region{
		{Base: 0, Len: 1 << 20, Type: 2}, // real-mode memory, BIOS data, option ROMs
		{Base: b.KernelStart, Len: b.KernelEnd - b.KernelStart, Type: 2},
	}
	n := info.Available(excl[:], availBuf[:])
	if n == 0 {
		return s, InitError("mm: no usable memory in the firmware memory map")
	}
	s.Regions = n
	for _, r := range availBuf[:n] {
		s.Available += r.Len
		if end := r.Base + r.Len; end > s.Top {
			s.Top = end
		}
	}
	if s.Top > DirectMapSize {
		s.Top = DirectMapSize
	}
	nframes := s.Top / PageSize
	nwords := frameWords(nframes)
	s.BitmapBytes = pageUp(nwords * 8)
	// The bitmap goes at the start of the first region below 4 GiB big
	// enough for it, where the boot direct map reaches.
	bitmapPA := uint64(0)
	for _, r := range availBuf[:n] {
		if r.Len >= s.BitmapBytes && r.Base+s.BitmapBytes <= 4<<30 {
			bitmapPA = r.Base
			break
		}
	}
	if bitmapPA == 0 {
		return s, InitError("mm: no room for the frame bitmap below 4 GiB")
	}
	if err := frames.Init(words(Phys2Virt(bitmapPA), nwords), nframes); err != nil {
		return s, InitError("mm: frame allocator init failed")
	}
	for _, r := range availBuf[:n] {
		if r.Base >= s.Top {
			continue
		}
		end := r.Base + r.Len
		if end > s.Top {
			end = s.Top
		}
		if err := frames.AddFree(r.Base, end); err != nil {
			return s, InitError("mm: adding a free region failed")
		}
	}
	if err := frames.Reserve(bitmapPA, bitmapPA+s.BitmapBytes); err != nil {
		return s, InitError("mm: reserving the bitmap failed")
	}
	if s.Top > directMapTop {
		directMapTop = s.Top
	}
	if !extendDirectMap(availBuf[:n], s.Top) {
		return s, InitError("mm: out of memory extending the direct map")
	}
	if !preallocKernelTables() {
		return s, InitError("mm: out of memory for kernel page tables")
	}
	var err error
	if s.Image, err = protectImage(b.Segments); err != nil {
		return s, err
	}
	// Drop the identity map entry32 ran on: the lower half belongs to user
	// space, and a stray null-ish pointer must fault.
	table(kernelRoot)[0] = 0
	flushGlobal()
	heapInit()
	s.Free = frames.Stats().Free * PageSize
	sizeReserve(frames.Stats().Free)
	s.Reserve = ReserveBytes()
	return s, nil
}

// frameWords is the bitmap size in 64-bit words for n frames.
func frameWords(n uint64) uint64 { return (n + 63) / 64 }

// extendDirectMap maps RAM above 4 GiB (entry32 mapped the first 4 GiB) with
// 2 MiB pages.
func extendDirectMap(avail []multiboot.Region, top uint64) bool {
	pdpt := table(table(kernelRoot)[amd64.Index(DirectMapBase, 4)] & amd64.PTEAddrMask)
	for _, r := range avail {
		start := r.Base &^ (amd64.HugePageSize - 1)
		end := r.Base + r.Len
		if end > top {
			end = top
		}
		if start < 4<<30 {
			start = 4 << 30
		}
		for pa := start; pa < end; pa += amd64.HugePageSize {
			e := &pdpt[amd64.Index(DirectMapBase+pa, 3)]
			if *e&amd64.PTEPresent == 0 {
				t, ok := AllocFrame()
				if !ok {
					return false
				}
				*e = t | amd64.PTEPresent | amd64.PTEWrite
			}
			pd := table(*e & amd64.PTEAddrMask)
			pd[amd64.Index(DirectMapBase+pa, 2)] = pa | amd64.PTEPresent | amd64.PTEWrite | amd64.PTEHuge | amd64.PTEGlobal | nxBit
		}
	}
	return true
}

// preallocKernelTables gives every kernel region its PDPT now, so that the
// kernel half of the PML4 never changes after boot.
func preallocKernelTables() bool {
	pml4 := table(kernelRoot)
	for va := uint64(HeapBase); va < HeapBase+HeapSize; va += 512 << 30 {
		if !ensurePDPT(pml4, va) {
			return false
		}
	}
	return ensurePDPT(pml4, MMIOBase)
}

func ensurePDPT(pml4 *amd64.PageTable, va uint64) bool {
	e := &pml4[amd64.Index(va, 4)]
	if *e&amd64.PTEPresent != 0 {
		return true
	}
	pa, ok := AllocFrame()
	if !ok {
		return false
	}
	*e = pa | amd64.PTEPresent | amd64.PTEWrite
	return true
}
