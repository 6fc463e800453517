package mbimage

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"slices"
)

// Address-space constants for the higher-half kernel.
const (
	// KernelBase is the virtual address of physical address 0.
	KernelBase = 0xffffffff80000000
	// KernelLimit ends the window that KernelBase maps (1 GiB).
	KernelLimit = 0xffffffffc0000000
	// PageSize is the x86 page size; the header occupies one page.
	PageSize = 4096
	// MaxImage bounds the loaded image, bss included. The kernel is a few
	// MiB; anything near this is a broken link, not a big kernel.
	MaxImage = 512 << 20
	// DefaultEntry is the symbol the boot code is linked at.
	DefaultEntry = "valence.dev/microkernel/arch/amd64.entry32"
)

// Segment is a PT_LOAD segment placed at its physical address.
type Segment struct {
	Phys   uint64
	Filesz uint64
	Memsz  uint64
	Flags  elf.ProgFlag
	data   []byte // the file bytes, aliasing the input
}

// Image is a built multiboot image.
type Image struct {
	File     []byte    // the contents of valence.mb
	Header   Header    // the header at offset 0 of File
	Segments []Segment // loadable segments by ascending Phys
}

// Build flattens the kernel ELF in kernel into a multiboot image whose
// entry point is the physical address of the symbol named entry.
func Build(kernel []byte, entry string) (*Image, error) {
	f, err := elf.NewFile(bytes.NewReader(kernel))
	if err != nil {
		return nil, fmt.Errorf("mbimage: reading kernel ELF: %w", err)
	}
	if err := checkIdent(f); err != nil {
		return nil, err
	}
	segs, err := loadSegments(f, kernel)
	if err != nil {
		return nil, err
	}
	entryPhys, err := findEntry(f, segs, entry)
	if err != nil {
		return nil, err
	}

	lowest := segs[0].Phys
	if lowest < MinLoadAddr+PageSize {
		return nil, fmt.Errorf("mbimage: lowest segment at physical %#x; need at least %#x to fit the header page above 1 MiB",
			lowest, MinLoadAddr+PageSize)
	}
	loadAddr := lowest - PageSize

	// The file stores everything up to the final segment's last file byte;
	// earlier segments' bss tails sit between file bytes and are stored as
	// zeros. memEnd is the highest byte any segment occupies.
	var fileEnd, memEnd uint64
	for i, s := range segs {
		end := s.Phys + s.Memsz
		if i == len(segs)-1 {
			end = s.Phys + s.Filesz
		}
		fileEnd = max(fileEnd, end)
		memEnd = max(memEnd, s.Phys+s.Memsz)
	}
	bssEnd := (memEnd + PageSize - 1) &^ (PageSize - 1)
	if bssEnd-loadAddr > MaxImage {
		return nil, fmt.Errorf("mbimage: image spans %#x-%#x (%d MiB), over the %d MiB limit",
			loadAddr, bssEnd, (bssEnd-loadAddr)>>20, MaxImage>>20)
	}

	file := make([]byte, PageSize+fileEnd-lowest)
	for _, s := range segs {
		copy(file[PageSize+s.Phys-lowest:], s.data)
	}
	// Every address is below 1 GiB (see KernelLimit), so the uint32
	// conversions are exact.
	h := Header{
		Flags:       FlagPageAlign | FlagMemInfo | FlagAOutKludge,
		HeaderAddr:  uint32(loadAddr),
		LoadAddr:    uint32(loadAddr),
		LoadEndAddr: uint32(loadAddr + uint64(len(file))),
		BSSEndAddr:  uint32(bssEnd),
		EntryAddr:   uint32(entryPhys),
	}
	copy(file, h.Marshal())

	// Read our own output back as a loader would; see doc.go.
	got, off, err := ParseHeader(file)
	if err != nil {
		return nil, fmt.Errorf("mbimage: built image fails its own check: %w", err)
	}
	if got != h || off != 0 {
		return nil, fmt.Errorf("mbimage: built image reads back as %+v at offset %d, want %+v at 0", got, off, h)
	}
	return &Image{File: file, Header: h, Segments: segs}, nil
}

func checkIdent(f *elf.File) error {
	switch {
	case f.Class != elf.ELFCLASS64:
		return fmt.Errorf("mbimage: kernel is %v, want ELFCLASS64", f.Class)
	case f.Data != elf.ELFDATA2LSB:
		return fmt.Errorf("mbimage: kernel is %v, want little endian", f.Data)
	case f.Machine != elf.EM_X86_64:
		return fmt.Errorf("mbimage: kernel machine is %v, want EM_X86_64", f.Machine)
	case f.Type != elf.ET_EXEC:
		return fmt.Errorf("mbimage: kernel type is %v, want ET_EXEC (a statically linked executable)", f.Type)
	}
	return nil
}

// loadSegments returns the non-empty PT_LOAD segments sorted by physical
// address, after checking each against the window, the file and the
// others.
func loadSegments(f *elf.File, kernel []byte) ([]Segment, error) {
	var segs []Segment
	for i, p := range f.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		where := fmt.Sprintf("PT_LOAD #%d (vaddr %#x, filesz %#x, memsz %#x)", i, p.Vaddr, p.Filesz, p.Memsz)
		switch {
		case p.Filesz > p.Memsz:
			return nil, fmt.Errorf("mbimage: %s: filesz larger than memsz", where)
		case p.Memsz == 0:
			continue // occupies nothing; nothing to load
		case p.Vaddr < KernelBase || p.Vaddr >= KernelLimit || p.Memsz > KernelLimit-p.Vaddr:
			return nil, fmt.Errorf("mbimage: %s: outside the kernel window %#x-%#x; was the kernel linked with -T=-0x7fdff000?",
				where, uint64(KernelBase), uint64(KernelLimit))
		case p.Memsz > MaxImage:
			return nil, fmt.Errorf("mbimage: %s: larger than %d MiB", where, MaxImage>>20)
		case p.Off > uint64(len(kernel)) || p.Filesz > uint64(len(kernel))-p.Off:
			return nil, fmt.Errorf("mbimage: %s: file bytes at offset %#x run past the end of the %d-byte file",
				where, p.Off, len(kernel))
		}
		segs = append(segs, Segment{
			Phys:   p.Vaddr - KernelBase,
			Filesz: p.Filesz,
			Memsz:  p.Memsz,
			Flags:  p.Flags,
			data:   kernel[p.Off : p.Off+p.Filesz],
		})
	}
	if len(segs) == 0 {
		return nil, errors.New("mbimage: kernel has no non-empty PT_LOAD segments")
	}
	slices.SortFunc(segs, func(a, b Segment) int {
		switch {
		case a.Phys < b.Phys:
			return -1
		case a.Phys > b.Phys:
			return 1
		}
		return 0
	})
	for i := 1; i < len(segs); i++ {
		p, s := segs[i-1], segs[i]
		if p.Phys+p.Memsz > s.Phys {
			return nil, fmt.Errorf("mbimage: segments at physical %#x-%#x and %#x-%#x overlap",
				p.Phys, p.Phys+p.Memsz, s.Phys, s.Phys+s.Memsz)
		}
	}
	return segs, nil
}

// findEntry returns the physical address of symbol name, which must lie
// in the file-backed bytes of an executable segment: jumping into bss or
// data would fault or execute zeros.
func findEntry(f *elf.File, segs []Segment, name string) (uint64, error) {
	syms, err := f.Symbols()
	if err != nil {
		return 0, fmt.Errorf("mbimage: reading symbols to find entry %q: %w", name, err)
	}
	// When Go code takes the address of an assembly function, the linker
	// emits an ABIInternal wrapper under the plain name and renames the
	// assembly body to name.abi0. The wrapper is 64-bit Go code with a
	// stack-check prologue; the loader must jump to the body.
	i := slices.IndexFunc(syms, func(s elf.Symbol) bool { return s.Name == name+".abi0" })
	if i < 0 {
		i = slices.IndexFunc(syms, func(s elf.Symbol) bool { return s.Name == name })
	}
	if i < 0 {
		return 0, fmt.Errorf("mbimage: entry symbol %q not found in kernel symbol table", name)
	}
	v := syms[i].Value
	if v < KernelBase || v >= KernelLimit {
		return 0, fmt.Errorf("mbimage: entry symbol %q at %#x is outside the kernel window", name, v)
	}
	phys := v - KernelBase
	for _, s := range segs {
		if phys >= s.Phys && phys-s.Phys < s.Filesz {
			if s.Flags&elf.PF_X == 0 {
				return 0, fmt.Errorf("mbimage: entry symbol %q at %#x is in a non-executable segment", name, v)
			}
			return phys, nil
		}
	}
	return 0, fmt.Errorf("mbimage: entry symbol %q at %#x is not in the file bytes of any PT_LOAD segment", name, v)
}
