package ksym

import (
	"encoding/binary"
	"errors"
)

// Format constants. See the package documentation for the layout.
const (
	// Magic identifies a table and its version.
	Magic = "VKSYM\x00\x01\x00"
	// HeaderSize is the size of the fixed header that precedes the entries.
	HeaderSize = 24
	// EntrySize is the size of one entry.
	EntrySize = 16
	// MaxNameLen is the longest name the uint16 length prefix can describe.
	MaxNameLen = 0xffff
)

// Errors returned by Open. They are package-level values so that rejecting
// a table does not allocate.
var (
	ErrTruncated = errors.New("ksym: table truncated")
	ErrBadMagic  = errors.New("ksym: bad magic or unsupported version")
	ErrBadHeader = errors.New("ksym: malformed header")
	ErrBadEntry  = errors.New("ksym: entry has zero size or wraps the address space")
	ErrUnsorted  = errors.New("ksym: entries unsorted or overlapping")
	ErrBadName   = errors.New("ksym: name empty or outside string table")
)

// Table is a read-only view of an encoded symbol table. The zero Table is
// empty. A Table aliases the bytes passed to Open; it never copies them.
type Table struct {
	ents []byte // count*EntrySize bytes of entries
	strs []byte // the string table
}

// Open validates b and returns a Table backed by it. It does not allocate:
// all errors are the package's sentinel values.
func Open(b []byte) (Table, error) {
	if len(b) < HeaderSize {
		return Table{}, ErrTruncated
	}
	if string(b[:len(Magic)]) != Magic {
		return Table{}, ErrBadMagic
	}
	le := binary.LittleEndian
	count := uint64(le.Uint32(b[8:12]))
	strOff := uint64(le.Uint32(b[12:16]))
	strSize := uint64(le.Uint32(b[16:20]))
	if le.Uint32(b[20:24]) != 0 {
		return Table{}, ErrBadHeader
	}
	// All arithmetic is in uint64 on values that started as uint32, so it
	// cannot overflow and comparing against len(b) is exact on any GOARCH.
	entEnd := HeaderSize + count*EntrySize
	if entEnd > uint64(len(b)) {
		return Table{}, ErrTruncated
	}
	if strOff < entEnd {
		return Table{}, ErrBadHeader
	}
	if strOff+strSize > uint64(len(b)) {
		return Table{}, ErrTruncated
	}
	t := Table{ents: b[HeaderSize:entEnd], strs: b[strOff : strOff+strSize]}
	var prevEnd uint64
	for i := 0; i < len(t.ents)/EntrySize; i++ {
		addr, size, nameOff := t.entry(i)
		end := addr + uint64(size)
		if size == 0 || end < addr {
			return Table{}, ErrBadEntry
		}
		if i > 0 && addr < prevEnd {
			return Table{}, ErrUnsorted
		}
		prevEnd = end
		if name, ok := t.name(nameOff); !ok || len(name) == 0 {
			return Table{}, ErrBadName
		}
	}
	return t, nil
}

// Len returns the number of entries.
func (t Table) Len() int { return len(t.ents) / EntrySize }

// Lookup finds the symbol covering pc. It returns the symbol's name, which
// aliases the table's bytes, and pc's offset from the symbol's start. ok is
// false if no symbol covers pc, that is unless addr <= pc < addr+size for
// some entry. Lookup does not allocate and cannot panic, even if the
// table's bytes were corrupted after Open.
func (t Table) Lookup(pc uint64) (name []byte, off uint64, ok bool) {
	// Find the first entry whose addr is above pc; the candidate is the
	// one before it. On a corrupted (unsorted) table this still terminates
	// and stays in bounds; it just may miss.
	lo, hi := 0, t.Len()
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if t.addr(mid) <= pc {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return nil, 0, false
	}
	addr, size, nameOff := t.entry(lo - 1)
	// Re-check pc >= addr: the bytes may have changed since Open.
	if pc < addr || pc-addr >= uint64(size) {
		return nil, 0, false
	}
	name, ok = t.name(nameOff)
	if !ok {
		return nil, 0, false
	}
	return name, pc - addr, true
}

// At returns entry i. ok is false if i is out of range or the entry's name
// cannot be read. Like Lookup it does not allocate.
func (t Table) At(i int) (addr uint64, size uint32, name []byte, ok bool) {
	if i < 0 || i >= t.Len() {
		return 0, 0, nil, false
	}
	addr, size, nameOff := t.entry(i)
	name, ok = t.name(nameOff)
	if !ok {
		return 0, 0, nil, false
	}
	return addr, size, name, true
}

// addr returns the address of entry i, which the caller keeps in range.
func (t Table) addr(i int) uint64 {
	o := i * EntrySize
	return binary.LittleEndian.Uint64(t.ents[o : o+8])
}

// entry decodes entry i, which the caller keeps in range.
func (t Table) entry(i int) (addr uint64, size, nameOff uint32) {
	e := t.ents[i*EntrySize : i*EntrySize+EntrySize]
	le := binary.LittleEndian
	return le.Uint64(e[0:8]), le.Uint32(e[8:12]), le.Uint32(e[12:16])
}

// name returns the length-prefixed string at off in the string table,
// checking every bound because off comes from the (untrusted) entry.
func (t Table) name(off uint32) ([]byte, bool) {
	o := uint64(off)
	n := uint64(len(t.strs))
	if o > n || n-o < 2 {
		return nil, false
	}
	l := uint64(binary.LittleEndian.Uint16(t.strs[o : o+2]))
	if n-o-2 < l {
		return nil, false
	}
	return t.strs[o+2 : o+2+l], true
}
