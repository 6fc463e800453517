package symtab

import (
	"bytes"
	"cmp"
	"debug/elf"
	"fmt"
	"math"
	"slices"

	"valence.dev/microkernel/ksym"
)

// Symbols returns the function symbols of the ELF file in kernel, sorted
// by address, with the sizes adjusted as described in the package
// documentation.
func Symbols(kernel []byte) ([]ksym.Symbol, error) {
	f, err := elf.NewFile(bytes.NewReader(kernel))
	if err != nil {
		return nil, fmt.Errorf("symtab: reading kernel ELF: %w", err)
	}
	text := f.Section(".text")
	if text == nil {
		return nil, fmt.Errorf("symtab: kernel has no .text section")
	}
	textIdx := elf.SectionIndex(slices.Index(f.Sections, text))
	textStart, textEnd := text.Addr, text.Addr+text.Size
	if textEnd < textStart {
		return nil, fmt.Errorf("symtab: .text at %#x size %#x wraps around", text.Addr, text.Size)
	}
	all, err := f.Symbols()
	if err != nil {
		return nil, fmt.Errorf("symtab: reading symbol table: %w", err)
	}

	var cands []elf.Symbol
	for _, s := range all {
		switch elf.ST_TYPE(s.Info) {
		case elf.STT_SECTION, elf.STT_FILE, elf.STT_TLS:
			continue
		}
		if s.Section != textIdx || s.Name == "" || s.Value < textStart || s.Value >= textEnd {
			continue
		}
		cands = append(cands, s)
	}
	slices.SortFunc(cands, func(a, b elf.Symbol) int {
		return cmp.Or(
			cmp.Compare(a.Value, b.Value),
			-cmp.Compare(min(a.Size, 1), min(b.Size, 1)), // sized first
			-cmp.Compare(isFunc(a), isFunc(b)),           // STT_FUNC first
			cmp.Compare(a.Name, b.Name),
		)
	})
	cands = slices.CompactFunc(cands, func(a, b elf.Symbol) bool { return a.Value == b.Value })

	out := make([]ksym.Symbol, 0, len(cands))
	for i, s := range cands {
		limit := textEnd
		if i+1 < len(cands) {
			limit = cands[i+1].Value
		}
		size := s.Size
		if size == 0 || size > limit-s.Value {
			size = limit - s.Value
		}
		if size == 0 {
			continue
		}
		if size > math.MaxUint32 {
			return nil, fmt.Errorf("symtab: symbol %q at %#x spans %#x bytes, more than ksym can describe", s.Name, s.Value, size)
		}
		if len(s.Name) > ksym.MaxNameLen {
			return nil, fmt.Errorf("symtab: symbol at %#x has a %d-byte name, over ksym's limit of %d", s.Value, len(s.Name), ksym.MaxNameLen)
		}
		out = append(out, ksym.Symbol{Addr: s.Value, Size: uint32(size), Name: s.Name})
	}
	return out, nil
}

func isFunc(s elf.Symbol) int {
	if elf.ST_TYPE(s.Info) == elf.STT_FUNC {
		return 1
	}
	return 0
}

// Table returns the encoded ksym table of the kernel's functions and the
// number of symbols in it.
func Table(kernel []byte) ([]byte, int, error) {
	syms, err := Symbols(kernel)
	if err != nil {
		return nil, 0, err
	}
	b, err := ksym.Encode(syms)
	if err != nil {
		return nil, 0, fmt.Errorf("symtab: encoding: %w", err)
	}
	return b, len(syms), nil
}
