package ksym

import (
	"cmp"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strconv"
)

// Symbol is one host-side symbol to encode.
type Symbol struct {
	Addr uint64
	Size uint32
	Name string
}

// Errors wrapped by Encode's *SymbolError.
var (
	ErrEmptyName   = errors.New("ksym: empty symbol name")
	ErrNameTooLong = errors.New("ksym: symbol name longer than 65535 bytes")
	ErrZeroSize    = errors.New("ksym: symbol has zero size")
	ErrWraps       = errors.New("ksym: symbol wraps past the end of the address space")
	ErrOverlap     = errors.New("ksym: overlapping symbols")
	ErrTooLarge    = errors.New("ksym: table too large for 32-bit offsets")
)

// SymbolError says which symbol Encode rejected and why. It exists instead
// of fmt.Errorf because this package must not import fmt (see doc.go).
type SymbolError struct {
	Sym   Symbol
	Other *Symbol // for ErrOverlap, the earlier symbol it overlaps
	Err   error
}

func (e *SymbolError) Error() string {
	s := e.Err.Error() + ": " + describe(e.Sym)
	if e.Other != nil {
		s += " overlaps " + describe(*e.Other)
	}
	return s
}

func (e *SymbolError) Unwrap() error { return e.Err }

func describe(s Symbol) string {
	name := s.Name
	if len(name) > 80 {
		name = name[:80] + "..."
	}
	return strconv.Quote(name) + " at 0x" + strconv.FormatUint(s.Addr, 16) +
		" size " + strconv.FormatUint(uint64(s.Size), 10)
}

// Encode builds a table from syms. The input need not be sorted and is
// not modified. Identical names are stored once. Encode rejects empty or
// over-long names, zero sizes, symbols that wrap around the address space
// and symbols that overlap; errors are *SymbolError wrapping one of the
// Err* values above, or ErrTooLarge.
func Encode(syms []Symbol) ([]byte, error) {
	sorted := slices.Clone(syms)
	// Sorting by name too makes the output independent of input order
	// even when an error is reported for duplicates.
	slices.SortFunc(sorted, func(a, b Symbol) int {
		return cmp.Or(cmp.Compare(a.Addr, b.Addr), cmp.Compare(a.Name, b.Name))
	})
	if uint64(len(sorted)) > (math.MaxUint32-HeaderSize)/EntrySize {
		return nil, ErrTooLarge
	}
	for i, s := range sorted {
		var err error
		switch {
		case s.Name == "":
			err = ErrEmptyName
		case len(s.Name) > MaxNameLen:
			err = ErrNameTooLong
		case s.Size == 0:
			err = ErrZeroSize
		case s.Addr+uint64(s.Size) < s.Addr:
			err = ErrWraps
		}
		if err != nil {
			return nil, &SymbolError{Sym: s, Err: err}
		}
		if i > 0 {
			p := sorted[i-1]
			if p.Addr+uint64(p.Size) > s.Addr {
				return nil, &SymbolError{Sym: s, Other: &p, Err: ErrOverlap}
			}
		}
	}

	entEnd := HeaderSize + len(sorted)*EntrySize
	var strtab []byte
	offs := make(map[string]uint32, len(sorted))
	for _, s := range sorted {
		if _, ok := offs[s.Name]; ok {
			continue
		}
		if uint64(entEnd)+uint64(len(strtab))+2+uint64(len(s.Name)) > math.MaxUint32 {
			return nil, ErrTooLarge
		}
		offs[s.Name] = uint32(len(strtab))
		strtab = binary.LittleEndian.AppendUint16(strtab, uint16(len(s.Name)))
		strtab = append(strtab, s.Name...)
	}

	out := make([]byte, entEnd, entEnd+len(strtab))
	le := binary.LittleEndian
	copy(out, Magic)
	le.PutUint32(out[8:], uint32(len(sorted)))
	le.PutUint32(out[12:], uint32(entEnd))
	le.PutUint32(out[16:], uint32(len(strtab)))
	// out[20:24] is the reserved word, already zero.
	for i, s := range sorted {
		e := out[HeaderSize+i*EntrySize:]
		le.PutUint64(e[0:], s.Addr)
		le.PutUint32(e[8:], s.Size)
		le.PutUint32(e[12:], offs[s.Name])
	}
	return append(out, strtab...), nil
}
