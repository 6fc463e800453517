package elf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// Limits on what Parse accepts.
const (
	MaxImage    = 1 << 30 // total memory size of all segments
	MaxSegments = 64
	PageSize    = 4096
	// UserLimit is the end of the user half of the address space; every
	// segment must end below it.
	UserLimit = 0x0000_7fff_ffff_f000
	// MinAddress is the lowest address a segment may start at (the first
	// 64 KiB stay unmapped so null pointers fault).
	MinAddress = 0x10000
)

// ErrBadELF is wrapped by every error Parse returns.
var ErrBadELF = errors.New("elf: not a loadable executable")

// Segment permissions.
const (
	ProtExec  = 1
	ProtWrite = 2
	ProtRead  = 4
)

// Segment is a loadable (PT_LOAD) segment.
type Segment struct {
	Vaddr  uint64 // where it is loaded
	Memsz  uint64 // bytes of memory it occupies
	Offset uint64 // where its file bytes start
	Filesz uint64 // bytes that come from the file; the rest is zero
	Prot   int    // ProtRead|ProtWrite|ProtExec
}

// End returns the end of the segment's memory.
func (s Segment) End() uint64 { return s.Vaddr + s.Memsz }

// File is a parsed executable.
type File struct {
	Entry    uint64
	Segments []Segment // sorted by address
	// Phdr is the address of the program header table in memory (for
	// AT_PHDR), when a segment maps it; else 0.
	Phdr      uint64
	Phentsize uint16
	Phnum     uint16
}

func bad(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadELF}, args...)...)
}

// ELF constants (System V gABI).
const (
	etExec   = 2
	etDyn    = 3
	emX86_64 = 62
	ptLoad   = 1
	ptInterp = 3
	ptPhdr   = 6
	ehSize   = 64
	phSize   = 56
)

// Parse validates an executable image and returns its loadable segments.
func Parse(b []byte) (*File, error) {
	if len(b) < ehSize {
		return nil, bad("file too short for an ELF header (%d bytes)", len(b))
	}
	if string(b[:4]) != "\x7fELF" {
		return nil, bad("no ELF magic")
	}
	if b[4] != 2 {
		return nil, bad("not a 64-bit ELF (class %d)", b[4])
	}
	if b[5] != 1 {
		return nil, bad("not little-endian (data %d)", b[5])
	}
	if b[6] != 1 {
		return nil, bad("unknown ELF version %d", b[6])
	}
	le := binary.LittleEndian
	typ, machine := le.Uint16(b[16:]), le.Uint16(b[18:])
	if machine != emX86_64 {
		return nil, bad("machine %d is not x86-64", machine)
	}
	if typ == etDyn {
		return nil, bad("position-independent executable (ET_DYN): build with -buildmode=exe")
	}
	if typ != etExec {
		return nil, bad("ELF type %d is not an executable", typ)
	}
	f := &File{Entry: le.Uint64(b[24:])}
	phoff := le.Uint64(b[32:])
	f.Phentsize, f.Phnum = le.Uint16(b[54:]), le.Uint16(b[56:])
	if f.Phnum == 0 {
		return nil, bad("no program headers")
	}
	if f.Phentsize != phSize {
		return nil, bad("program header size %d, want %d", f.Phentsize, phSize)
	}
	if f.Phnum > 256 {
		return nil, bad("%d program headers", f.Phnum)
	}
	tableEnd := phoff + uint64(f.Phnum)*phSize
	if phoff >= uint64(len(b)) || tableEnd > uint64(len(b)) || tableEnd < phoff {
		return nil, bad("program header table [%#x, %#x) outside the file (%d bytes)", phoff, tableEnd, len(b))
	}
	var total uint64
	var phdrAddr uint64
	for i := 0; i < int(f.Phnum); i++ {
		ph := b[phoff+uint64(i)*phSize:]
		ptype, flags := le.Uint32(ph[0:]), le.Uint32(ph[4:])
		off, vaddr := le.Uint64(ph[8:]), le.Uint64(ph[16:])
		filesz, memsz, align := le.Uint64(ph[32:]), le.Uint64(ph[40:]), le.Uint64(ph[48:])
		switch ptype {
		case ptInterp:
			return nil, bad("dynamically linked (PT_INTERP): only static executables can run")
		case ptPhdr:
			phdrAddr = vaddr // trusted only if a segment maps the table there (below)
		case ptLoad:
		default:
			continue
		}
		if ptype != ptLoad {
			continue
		}
		if filesz > memsz {
			return nil, bad("segment %d: file size %#x exceeds memory size %#x", i, filesz, memsz)
		}
		if off+filesz < off || off+filesz > uint64(len(b)) {
			return nil, bad("segment %d: file bytes [%#x, %#x) outside the file (%d bytes)", i, off, off+filesz, len(b))
		}
		if memsz == 0 {
			continue // occupies nothing; its file range was still checked
		}
		if len(f.Segments) == MaxSegments {
			return nil, bad("more than %d loadable segments", MaxSegments)
		}
		_ = align // the loader maps by pages whatever p_align says
		if vaddr%PageSize != off%PageSize {
			return nil, bad("segment %d: address %#x and offset %#x disagree modulo the page size", i, vaddr, off)
		}
		end := vaddr + memsz
		if end < vaddr || vaddr < MinAddress || end > UserLimit {
			return nil, bad("segment %d: [%#x, %#x) is outside user memory [%#x, %#x)", i, vaddr, end, MinAddress, UserLimit)
		}
		total += memsz
		if total > MaxImage {
			return nil, bad("segments total more than %d MiB", MaxImage>>20)
		}
		prot := 0
		if flags&1 != 0 {
			prot |= ProtExec
		}
		if flags&2 != 0 {
			prot |= ProtWrite
		}
		if flags&4 != 0 {
			prot |= ProtRead
		}
		f.Segments = append(f.Segments, Segment{Vaddr: vaddr, Memsz: memsz, Offset: off, Filesz: filesz, Prot: prot})
	}
	if len(f.Segments) == 0 {
		return nil, bad("no loadable segments")
	}
	sort.Slice(f.Segments, func(i, j int) bool { return f.Segments[i].Vaddr < f.Segments[j].Vaddr })
	for i := 1; i < len(f.Segments); i++ {
		prev, cur := f.Segments[i-1], f.Segments[i]
		// Segments may share a page (Linux maps them over each other), but
		// their bytes must not overlap.
		if cur.Vaddr < prev.End() {
			return nil, bad("segments [%#x, %#x) and [%#x, %#x) overlap", prev.Vaddr, prev.End(), cur.Vaddr, cur.End())
		}
	}
	entryOK := false
	for _, s := range f.Segments {
		if f.Entry >= s.Vaddr && f.Entry < s.End() && s.Prot&ProtExec != 0 {
			entryOK = true
		}
		if phoff >= s.Offset && tableEnd <= s.Offset+s.Filesz {
			mapped := s.Vaddr + (phoff - s.Offset)
			if f.Phdr == 0 || mapped == phdrAddr {
				f.Phdr = mapped
			}
		}
	}
	if !entryOK {
		return nil, bad("entry point %#x is not in an executable segment", f.Entry)
	}
	return f, nil
}
