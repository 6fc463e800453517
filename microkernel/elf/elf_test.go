package elf

import (
	"bytes"
	stdelf "debug/elf"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Program header types and flags used by the tests (System V gABI).
const (
	ptNull     = 0
	ptNote     = 4
	ptTLS      = 7
	ptGNUStack = 0x6474e551
	pfX        = 1
	pfW        = 2
	pfR        = 4
)

// prog is one ELF64 program header.
type prog struct {
	Type, Flags                             uint32
	Off, Vaddr, Paddr, Filesz, Memsz, Align uint64
}

// image describes an ELF64 file for bytes to write.
type image struct {
	Class, Data, Version byte
	Type, Machine        uint16
	Entry, Phoff         uint64
	Phentsize            uint16
	Phnum                int // -1: len(Progs)
	Progs                []prog
	// Size is the exact file size; 0 means just big enough for the ELF
	// header and the program header table. Whatever does not fit in Size
	// is dropped.
	Size int
}

// bytes encodes the image. The bytes that are not header are filled with
// a pattern, so comparisons of segment contents mean something.
func (im image) bytes() []byte {
	n := ehSize
	tableEnd := im.Phoff + uint64(len(im.Progs))*phSize
	if im.Phoff < 1<<24 && int(tableEnd) > n {
		n = int(tableEnd)
	}
	if im.Size > n {
		n = im.Size
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 1)
	}
	le := binary.LittleEndian
	copy(b, "\x7fELF")
	b[4], b[5], b[6] = im.Class, im.Data, im.Version
	clear(b[7:16])
	le.PutUint16(b[16:], im.Type)
	le.PutUint16(b[18:], im.Machine)
	le.PutUint32(b[20:], 1)
	le.PutUint64(b[24:], im.Entry)
	le.PutUint64(b[32:], im.Phoff)
	le.PutUint64(b[40:], 0) // no section headers
	le.PutUint32(b[48:], 0)
	le.PutUint16(b[52:], ehSize)
	le.PutUint16(b[54:], im.Phentsize)
	phnum := im.Phnum
	if phnum < 0 {
		phnum = len(im.Progs)
	}
	le.PutUint16(b[56:], uint16(phnum))
	le.PutUint16(b[58:], 64)
	le.PutUint16(b[60:], 0)
	le.PutUint16(b[62:], 0)
	if im.Phoff < 1<<24 {
		for i, p := range im.Progs {
			ph := b[im.Phoff+uint64(i)*phSize:]
			le.PutUint32(ph[0:], p.Type)
			le.PutUint32(ph[4:], p.Flags)
			le.PutUint64(ph[8:], p.Off)
			le.PutUint64(ph[16:], p.Vaddr)
			le.PutUint64(ph[24:], p.Paddr)
			le.PutUint64(ph[32:], p.Filesz)
			le.PutUint64(ph[40:], p.Memsz)
			le.PutUint64(ph[48:], p.Align)
		}
	}
	if im.Size > 0 {
		b = b[:im.Size]
	}
	return b
}

// load returns a PT_LOAD program header with page alignment.
func load(flags uint32, off, vaddr, filesz, memsz uint64) prog {
	return prog{Type: ptLoad, Flags: flags, Off: off, Vaddr: vaddr, Paddr: vaddr, Filesz: filesz, Memsz: memsz, Align: PageSize}
}

// valid returns a small well-formed executable: a text segment that also
// maps the headers, and a data segment with bss.
func valid() image {
	return image{
		Class: 2, Data: 1, Version: 1, Type: etExec, Machine: emX86_64,
		Entry:     0x400100,
		Phoff:     ehSize,
		Phentsize: phSize,
		Phnum:     -1,
		Progs: []prog{
			load(pfR|pfX, 0, 0x400000, 0x1000, 0x1000),
			load(pfR|pfW, 0x1000, 0x401000, 0x80, 0x2000),
		},
		Size: 0x1080,
	}
}

// validFile is what Parse returns for valid().
func validFile() *File {
	return &File{
		Entry: 0x400100,
		Segments: []Segment{
			{Vaddr: 0x400000, Memsz: 0x1000, Offset: 0, Filesz: 0x1000, Prot: ProtRead | ProtExec},
			{Vaddr: 0x401000, Memsz: 0x2000, Offset: 0x1000, Filesz: 0x80, Prot: ProtRead | ProtWrite},
		},
		Phdr:      0x400040,
		Phentsize: phSize,
		Phnum:     2,
	}
}

// pages returns n one-page segments laid out back to back from 0x400000,
// the first one executable, all backed by the first page of the file.
func pages(n int) []prog {
	ps := make([]prog, n)
	for i := range ps {
		flags := uint32(pfR)
		if i == 0 {
			flags |= pfX
		}
		ps[i] = load(flags, 0, 0x400000+uint64(i)*PageSize, PageSize, PageSize)
	}
	return ps
}

func pageSegments(n int) []Segment {
	ss := make([]Segment, n)
	for i := range ss {
		prot := ProtRead
		if i == 0 {
			prot |= ProtExec
		}
		ss[i] = Segment{Vaddr: 0x400000 + uint64(i)*PageSize, Memsz: PageSize, Filesz: PageSize, Prot: prot}
	}
	return ss
}

type refusal struct {
	name  string
	mod   func(*image)        // applied to valid()
	patch func([]byte) []byte // applied to the encoded bytes
	want  string              // substring of the error
}

func (c refusal) bytes() []byte {
	im := valid()
	if c.mod != nil {
		c.mod(&im)
	}
	b := im.bytes()
	if c.patch != nil {
		b = c.patch(b)
	}
	return b
}

var refusals = []refusal{
	// ELF header.
	{name: "empty", patch: func([]byte) []byte { return nil }, want: "too short for an ELF header (0 bytes)"},
	{name: "one byte short of a header", patch: func(b []byte) []byte { return b[:ehSize-1] }, want: "too short for an ELF header (63 bytes)"},
	{name: "bad magic", patch: func(b []byte) []byte { b[0] = 0x7e; return b }, want: "no ELF magic"},
	{name: "magic reversed", patch: func(b []byte) []byte { copy(b, "FLE\x7f"); return b }, want: "no ELF magic"},
	{name: "32-bit class", mod: func(im *image) { im.Class = 1 }, want: "not a 64-bit ELF (class 1)"},
	{name: "no class", mod: func(im *image) { im.Class = 0 }, want: "not a 64-bit ELF (class 0)"},
	{name: "big-endian", mod: func(im *image) { im.Data = 2 }, want: "not little-endian (data 2)"},
	{name: "no byte order", mod: func(im *image) { im.Data = 0 }, want: "not little-endian (data 0)"},
	{name: "version 0", mod: func(im *image) { im.Version = 0 }, want: "unknown ELF version 0"},
	{name: "version 2", mod: func(im *image) { im.Version = 2 }, want: "unknown ELF version 2"},
	{name: "i386", mod: func(im *image) { im.Machine = 3 }, want: "machine 3 is not x86-64"},
	{name: "aarch64", mod: func(im *image) { im.Machine = 183 }, want: "machine 183 is not x86-64"},
	{name: "PIE", mod: func(im *image) { im.Type = etDyn }, want: "position-independent executable (ET_DYN): build with -buildmode=exe"},
	{name: "ET_REL", mod: func(im *image) { im.Type = 1 }, want: "ELF type 1 is not an executable"},
	{name: "ET_CORE", mod: func(im *image) { im.Type = 4 }, want: "ELF type 4 is not an executable"},
	{name: "ET_NONE", mod: func(im *image) { im.Type = 0 }, want: "ELF type 0 is not an executable"},

	// Program header table.
	{name: "zero phnum", mod: func(im *image) { im.Phnum = 0 }, want: "no program headers"},
	{name: "phentsize 32", mod: func(im *image) { im.Phentsize = 32 }, want: "program header size 32, want 56"},
	{name: "phentsize 64", mod: func(im *image) { im.Phentsize = 64 }, want: "program header size 64, want 56"},
	{name: "phentsize 0", mod: func(im *image) { im.Phentsize = 0 }, want: "program header size 0, want 56"},
	{name: "too many program headers", mod: func(im *image) { im.Phnum = 257; im.Size = 0x4000 }, want: "257 program headers"},
	{name: "phnum 0xffff", mod: func(im *image) { im.Phnum = 0xffff }, want: "65535 program headers"},
	{
		name: "table starts at end of file",
		mod:  func(im *image) { im.Phoff = uint64(im.Size) },
		// The table is written past the end and cut off.
		want: "program header table [0x1080, 0x10f0) outside the file (4224 bytes)",
	},
	{
		name: "table starts past end of file",
		mod:  func(im *image) { im.Phoff = 1 << 40 },
		want: "program header table [0x10000000000, 0x10000000070) outside the file",
	},
	{
		name: "table cut short",
		mod:  func(im *image) { im.Size = ehSize + phSize + 10 },
		want: "program header table [0x40, 0xb0) outside the file (130 bytes)",
	},
	{
		name: "table overflows",
		mod:  func(im *image) { im.Phoff = 1<<64 - phSize },
		want: "program header table [0xffffffffffffffc8, 0x38) outside the file",
	},

	// Dynamic linking.
	{
		name: "PT_INTERP",
		mod: func(im *image) {
			im.Progs = append([]prog{{Type: ptInterp, Flags: pfR, Off: 0x200, Vaddr: 0x400200, Filesz: 0x1c, Memsz: 0x1c, Align: 1}}, im.Progs...)
		},
		want: "dynamically linked (PT_INTERP)",
	},
	{
		name: "PT_INTERP after the loads",
		mod: func(im *image) {
			im.Progs = append(im.Progs, prog{Type: ptInterp, Flags: pfR, Off: 0x200, Vaddr: 0x400200, Filesz: 0x1c, Memsz: 0x1c, Align: 1})
		},
		want: "dynamically linked (PT_INTERP)",
	},

	// Segment file ranges.
	{name: "filesz > memsz", mod: func(im *image) { im.Progs[1].Filesz = 0x2001 }, want: "segment 1: file size 0x2001 exceeds memory size 0x2000"},
	{name: "file range past end", mod: func(im *image) { im.Progs[1].Filesz = 0x81 }, want: "segment 1: file bytes [0x1000, 0x1081) outside the file (4224 bytes)"},
	{name: "file offset past end", mod: func(im *image) { im.Progs[1].Off = 0x2000 }, want: "segment 1: file bytes [0x2000, 0x2080) outside the file"},
	{
		name: "empty file range past end",
		mod:  func(im *image) { im.Progs[1].Off = 0x100000; im.Progs[1].Filesz = 0 },
		want: "segment 1: file bytes [0x100000, 0x100000) outside the file",
	},
	{
		name: "file range overflows",
		mod: func(im *image) {
			im.Progs[1].Off = 1<<64 - PageSize
			im.Progs[1].Filesz = 2 * PageSize
			im.Progs[1].Memsz = 2 * PageSize
		},
		want: "segment 1: file bytes [0xfffffffffffff000, 0x1000) outside the file",
	},

	// Page alignment.
	{name: "vaddr not congruent to offset", mod: func(im *image) { im.Progs[1].Vaddr = 0x401010 }, want: "segment 1: address 0x401010 and offset 0x1000 disagree modulo the page size"},
	{
		name: "offset not congruent to vaddr",
		mod:  func(im *image) { im.Progs[1].Off = 0x1008; im.Progs[1].Filesz = 0x40 },
		want: "segment 1: address 0x401000 and offset 0x1008 disagree modulo the page size",
	},
	{
		name: "incongruent with p_align 0",
		mod:  func(im *image) { im.Progs[1].Vaddr = 0x401010; im.Progs[1].Align = 0 },
		want: "disagree modulo the page size",
	},
	{
		name: "incongruent with p_align 1",
		mod:  func(im *image) { im.Progs[1].Vaddr = 0x401010; im.Progs[1].Align = 1 },
		want: "disagree modulo the page size",
	},

	// Addresses.
	{
		name: "segment at 0",
		mod:  func(im *image) { im.Progs[0].Vaddr = 0; im.Entry = 0x100 },
		want: "segment 0: [0x0, 0x1000) is outside user memory [0x10000, 0x7ffffffff000)",
	},
	{
		name: "segment just below MinAddress",
		mod:  func(im *image) { im.Progs[0].Vaddr = MinAddress - PageSize; im.Entry = MinAddress - PageSize },
		want: "segment 0: [0xf000, 0x10000) is outside user memory",
	},
	{
		name: "segment straddling UserLimit",
		mod:  func(im *image) { im.Progs[1].Vaddr = UserLimit - PageSize; im.Progs[1].Memsz = 2 * PageSize },
		want: "segment 1: [0x7fffffffe000, 0x800000000000) is outside user memory",
	},
	{
		name: "segment one byte past UserLimit",
		mod:  func(im *image) { im.Progs[1].Vaddr = UserLimit - PageSize; im.Progs[1].Memsz = PageSize + 1 },
		want: "segment 1: [0x7fffffffe000, 0x7ffffffff001) is outside user memory",
	},
	{
		name: "segment at UserLimit",
		mod:  func(im *image) { im.Progs[1].Vaddr = UserLimit },
		want: "segment 1: [0x7ffffffff000, 0x800000001000) is outside user memory",
	},
	{
		name: "segment in the kernel half",
		mod:  func(im *image) { im.Progs[1].Vaddr = 0xffff_8000_0000_1000 },
		want: "segment 1: [0xffff800000001000, 0xffff800000003000) is outside user memory",
	},
	{
		name: "segment wraps around",
		mod:  func(im *image) { im.Progs[1].Vaddr = 0xffff_ffff_ffff_f000 },
		want: "segment 1: [0xfffffffffffff000, 0x1000) is outside user memory",
	},
	{
		name: "memsz wraps around",
		mod:  func(im *image) { im.Progs[1].Memsz = 1<<64 - 0x1000 },
		want: "segment 1: [0x401000, 0x400000) is outside user memory",
	},

	// Size.
	{name: "total > MaxImage", mod: func(im *image) { im.Progs[1].Memsz = MaxImage }, want: "segments total more than 1024 MiB"},
	{name: "one segment > MaxImage", mod: func(im *image) { im.Progs[0].Memsz = MaxImage + 1 }, want: "segments total more than 1024 MiB"},
	{
		name: "too many segments",
		mod:  func(im *image) { im.Progs = pages(MaxSegments + 1) },
		want: "more than 64 loadable segments",
	},

	// Overlaps.
	{
		name: "overlapping segments",
		mod: func(im *image) {
			im.Progs[1].Vaddr, im.Progs[1].Off = 0x400800, 0x800
		},
		want: "segments [0x400000, 0x401000) and [0x400800, 0x402800) overlap",
	},
	{
		name: "overlap by one byte",
		mod:  func(im *image) { im.Progs[0].Memsz = 0x1001 },
		want: "segments [0x400000, 0x401001) and [0x401000, 0x403000) overlap",
	},
	{
		name: "same address",
		mod:  func(im *image) { im.Progs[1].Vaddr = 0x400000 },
		want: "overlap",
	},
	{
		name: "overlap listed in reverse",
		mod: func(im *image) {
			im.Progs[1].Vaddr, im.Progs[1].Off = 0x400800, 0x800
			im.Progs[0], im.Progs[1] = im.Progs[1], im.Progs[0]
		},
		want: "segments [0x400000, 0x401000) and [0x400800, 0x402800) overlap",
	},
	{
		name: "segment nested in a larger one",
		mod: func(im *image) {
			im.Progs[0].Memsz = 0x10000
			im.Progs[1].Vaddr = 0x404000
			im.Progs = append(im.Progs, load(pfR, 0, 0x408000, 0, 0x1000))
		},
		want: "segments [0x400000, 0x410000) and [0x404000, 0x406000) overlap",
	},

	// Entry point.
	{name: "entry below the image", mod: func(im *image) { im.Entry = 0x300000 }, want: "entry point 0x300000 is not in an executable segment"},
	{name: "entry 0", mod: func(im *image) { im.Entry = 0 }, want: "entry point 0x0 is not in an executable segment"},
	{name: "entry in data", mod: func(im *image) { im.Entry = 0x401000 }, want: "entry point 0x401000 is not in an executable segment"},
	{name: "entry past the image", mod: func(im *image) { im.Entry = 0x403000 }, want: "entry point 0x403000 is not in an executable segment"},
	{
		name: "no executable segment",
		mod:  func(im *image) { im.Progs[0].Flags = pfR | pfW },
		want: "entry point 0x400100 is not in an executable segment",
	},
	{
		name: "entry in a skipped zero-size executable segment",
		mod: func(im *image) {
			im.Progs[0].Flags = pfR
			im.Progs = append(im.Progs, load(pfR|pfX, 0x100, 0x400100, 0, 0))
		},
		want: "entry point 0x400100 is not in an executable segment",
	},

	// Nothing to load.
	{
		name: "only a note",
		mod: func(im *image) {
			im.Progs = []prog{{Type: ptNote, Flags: pfR, Off: 0x100, Vaddr: 0x400100, Filesz: 0x20, Memsz: 0x20, Align: 4}}
		},
		want: "no loadable segments",
	},
	{
		name: "only zero-size loads",
		mod: func(im *image) {
			im.Progs[0].Memsz, im.Progs[0].Filesz = 0, 0
			im.Progs[1].Memsz, im.Progs[1].Filesz = 0, 0
		},
		want: "no loadable segments",
	},

	// Zero-size PT_LOAD headers are skipped before any check, so they may
	// say anything.
	{
		name: "zero-size load with filesz > memsz",
		mod:  func(im *image) { im.Progs = append(im.Progs, load(pfR, 0, 0x500000, 0x10, 0)) },
		want: "file size 0x10 exceeds memory size 0x0",
	},
	{
		name: "zero-size load with file range past end",
		mod:  func(im *image) { im.Progs = append(im.Progs, load(pfR, 1<<40, 0x500000, 0, 0)) },
		want: "outside the file",
	},
}

func TestParseRefuses(t *testing.T) {
	for _, c := range refusals {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse(c.bytes())
			if err == nil {
				t.Fatalf("Parse accepted the file: %+v", f)
			}
			if f != nil {
				t.Errorf("Parse returned a File with its error: %+v", f)
			}
			if !errors.Is(err, ErrBadELF) {
				t.Errorf("error %q does not wrap ErrBadELF", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

type acceptance struct {
	name  string
	mod   func(*image)        // applied to valid()
	patch func([]byte) []byte // applied to the encoded bytes
	want  func(*File)         // applied to validFile()
}

func (c acceptance) bytes() []byte {
	im := valid()
	if c.mod != nil {
		c.mod(&im)
	}
	b := im.bytes()
	if c.patch != nil {
		b = c.patch(b)
	}
	return b
}

var acceptances = []acceptance{
	{name: "text and data"},
	{
		name: "program headers out of order",
		mod:  func(im *image) { im.Progs[0], im.Progs[1] = im.Progs[1], im.Progs[0] },
	},
	{
		name: "many segments out of order",
		mod: func(im *image) {
			im.Progs = []prog{
				load(pfR, 0, 0x600000, 0x100, 0x1000),
				load(pfR|pfW, 0x1000, 0x401000, 0x80, 0x2000),
				load(pfR, 0, 0x500000, 0x100, 0x1000),
				load(pfR|pfX, 0, 0x400000, 0x1000, 0x1000),
			}
		},
		want: func(f *File) {
			f.Segments = []Segment{
				{Vaddr: 0x400000, Memsz: 0x1000, Offset: 0, Filesz: 0x1000, Prot: ProtRead | ProtExec},
				{Vaddr: 0x401000, Memsz: 0x2000, Offset: 0x1000, Filesz: 0x80, Prot: ProtRead | ProtWrite},
				{Vaddr: 0x500000, Memsz: 0x1000, Offset: 0, Filesz: 0x100, Prot: ProtRead},
				{Vaddr: 0x600000, Memsz: 0x1000, Offset: 0, Filesz: 0x100, Prot: ProtRead},
			}
			f.Phnum = 4
		},
	},
	{
		name: "protection bits",
		mod: func(im *image) {
			flags := []uint32{pfR | pfX, pfR, pfR | pfW, pfR | pfW | pfX, 0, pfW, pfX, pfR | 0xf0000000 | 0x0ff00000}
			im.Progs = nil
			for i, fl := range flags {
				im.Progs = append(im.Progs, load(fl, 0, 0x400000+uint64(i)*PageSize, PageSize, PageSize))
			}
		},
		want: func(f *File) {
			prots := []int{ProtRead | ProtExec, ProtRead, ProtRead | ProtWrite, ProtRead | ProtWrite | ProtExec, 0, ProtWrite, ProtExec, ProtRead}
			f.Segments = nil
			for i, p := range prots {
				f.Segments = append(f.Segments, Segment{Vaddr: 0x400000 + uint64(i)*PageSize, Memsz: PageSize, Filesz: PageSize, Prot: p})
			}
			f.Phnum = uint16(len(prots))
		},
	},
	{
		name: "PT_PHDR",
		mod: func(im *image) {
			im.Progs = append([]prog{{Type: ptPhdr, Flags: pfR, Off: ehSize, Vaddr: 0x400040, Paddr: 0x400040, Filesz: 3 * phSize, Memsz: 3 * phSize, Align: 8}}, im.Progs...)
		},
		want: func(f *File) { f.Phnum = 3 },
	},
	{
		name: "PT_PHDR for a table in the data segment",
		mod: func(im *image) {
			im.Phoff = 0x1000
			im.Progs[1].Filesz = 0x200
			im.Progs = append(im.Progs, prog{Type: ptPhdr, Flags: pfR, Off: 0x1000, Vaddr: 0x401000, Filesz: 3 * phSize, Memsz: 3 * phSize, Align: 8})
			im.Size = 0x1200
		},
		want: func(f *File) { f.Phdr = 0x401000; f.Phnum = 3; f.Segments[1].Filesz = 0x200 },
	},
	{
		name: "table in the data segment",
		mod: func(im *image) {
			im.Phoff = 0x1010
			im.Progs[1].Filesz = 0x200
			im.Size = 0x1200
		},
		want: func(f *File) { f.Phdr = 0x401010; f.Segments[1].Filesz = 0x200 },
	},
	{
		name: "table not in any segment",
		mod: func(im *image) {
			im.Progs[0] = load(pfR|pfX, 0x1000, 0x401000, 0x80, 0x1000)
			im.Progs[1] = load(pfR|pfW, 0x1000, 0x402000, 0x80, 0x1000)
			im.Entry = 0x401000
		},
		want: func(f *File) {
			f.Entry = 0x401000
			f.Segments = []Segment{
				{Vaddr: 0x401000, Memsz: 0x1000, Offset: 0x1000, Filesz: 0x80, Prot: ProtRead | ProtExec},
				{Vaddr: 0x402000, Memsz: 0x1000, Offset: 0x1000, Filesz: 0x80, Prot: ProtRead | ProtWrite},
			}
			f.Phdr = 0
		},
	},
	{
		name: "table only partly in a segment's file bytes",
		mod:  func(im *image) { im.Progs[0].Filesz = ehSize + phSize },
		want: func(f *File) { f.Segments[0].Filesz = ehSize + phSize; f.Phdr = 0 },
	},
	{
		name: "table ends exactly at a segment's file end",
		mod:  func(im *image) { im.Progs[0].Filesz = ehSize + 2*phSize },
		want: func(f *File) { f.Segments[0].Filesz = ehSize + 2*phSize },
	},
	{
		name: "zero-size segment skipped",
		mod: func(im *image) {
			im.Progs = append(im.Progs, load(pfR|pfW|pfX, 0, 0, 0, 0), load(pfR, 0x100, 0x400100, 0, 0))
		},
		want: func(f *File) { f.Phnum = 4 },
	},
	{
		name: "segments share a page",
		mod: func(im *image) {
			im.Progs[0].Filesz, im.Progs[0].Memsz = 0x800, 0x800
			im.Progs[1].Off, im.Progs[1].Vaddr, im.Progs[1].Memsz = 0x800, 0x400800, 0x1000
		},
		want: func(f *File) {
			f.Segments = []Segment{
				{Vaddr: 0x400000, Memsz: 0x800, Offset: 0, Filesz: 0x800, Prot: ProtRead | ProtExec},
				{Vaddr: 0x400800, Memsz: 0x1000, Offset: 0x800, Filesz: 0x80, Prot: ProtRead | ProtWrite},
			}
		},
	},
	{
		name: "segments share a page and file bytes",
		mod: func(im *image) {
			im.Progs[0].Filesz, im.Progs[0].Memsz = 0x1001, 0x1001
			im.Progs[1].Off, im.Progs[1].Vaddr = 0x1001, 0x401001
			im.Progs[1].Filesz = 0x7f
		},
		want: func(f *File) {
			f.Segments = []Segment{
				{Vaddr: 0x400000, Memsz: 0x1001, Offset: 0, Filesz: 0x1001, Prot: ProtRead | ProtExec},
				{Vaddr: 0x401001, Memsz: 0x2000, Offset: 0x1001, Filesz: 0x7f, Prot: ProtRead | ProtWrite},
			}
		},
	},
	{
		name: "other program headers ignored",
		mod: func(im *image) {
			odd := prog{Off: 1 << 60, Vaddr: 1 << 63, Filesz: 1 << 62, Memsz: 1, Flags: 7, Align: 3}
			for _, typ := range []uint32{ptNull, ptNote, ptTLS, ptGNUStack, 0x70000000} {
				odd.Type = typ
				im.Progs = append(im.Progs, odd)
			}
		},
		want: func(f *File) { f.Phnum = 7 },
	},
	{
		name: "bss-only segment",
		mod:  func(im *image) { im.Progs = append(im.Progs, load(pfR|pfW, 0, 0x500000, 0, 0x10000)) },
		want: func(f *File) {
			f.Segments = append(f.Segments, Segment{Vaddr: 0x500000, Memsz: 0x10000, Prot: ProtRead | ProtWrite})
			f.Phnum = 3
		},
	},
	{
		name: "entry at the first byte of text",
		mod:  func(im *image) { im.Entry = 0x400000 },
		want: func(f *File) { f.Entry = 0x400000 },
	},
	{
		name: "entry at the last byte of text",
		mod:  func(im *image) { im.Entry = 0x400fff },
		want: func(f *File) { f.Entry = 0x400fff },
	},
	{
		name: "entry in the zero-filled tail of text",
		mod:  func(im *image) { im.Progs[0].Filesz = 0x200; im.Entry = 0x400f00 },
		want: func(f *File) { f.Entry = 0x400f00; f.Segments[0].Filesz = 0x200 },
	},
	{
		name: "unaligned segment with congruent offset",
		mod:  func(im *image) { im.Progs[1].Off, im.Progs[1].Vaddr, im.Progs[1].Filesz = 0x1010, 0x401010, 0x70 },
		want: func(f *File) {
			f.Segments[1].Offset, f.Segments[1].Vaddr, f.Segments[1].Filesz = 0x1010, 0x401010, 0x70
		},
	},
	{
		name: "p_align 0 and 1 with congruent addresses",
		mod:  func(im *image) { im.Progs[0].Align, im.Progs[1].Align = 0, 1 },
	},
	{
		name: "p_align 2 MiB needs only page congruence",
		mod:  func(im *image) { im.Progs[0].Align, im.Progs[1].Align = 1<<21, 1<<21 },
	},
	{
		name: "segment at MinAddress",
		mod: func(im *image) {
			im.Progs[0].Vaddr, im.Progs[1].Vaddr, im.Entry = MinAddress, MinAddress+PageSize, MinAddress
		},
		want: func(f *File) {
			f.Segments[0].Vaddr, f.Segments[1].Vaddr, f.Entry = MinAddress, MinAddress+PageSize, MinAddress
			f.Phdr = MinAddress + ehSize
		},
	},
	{
		name: "segment ending at UserLimit",
		mod:  func(im *image) { im.Progs[1].Vaddr, im.Progs[1].Memsz = UserLimit-PageSize, PageSize },
		want: func(f *File) { f.Segments[1].Vaddr, f.Segments[1].Memsz = UserLimit-PageSize, PageSize },
	},
	{
		name: "total exactly MaxImage",
		mod:  func(im *image) { im.Progs[1].Memsz = MaxImage - PageSize },
		want: func(f *File) { f.Segments[1].Memsz = MaxImage - PageSize },
	},
	{
		name: "exactly MaxSegments",
		mod:  func(im *image) { im.Progs = pages(MaxSegments) },
		want: func(f *File) { f.Segments = pageSegments(MaxSegments); f.Phnum = MaxSegments },
	},
	{
		name: "MaxSegments and a zero-size load first",
		mod:  func(im *image) { im.Progs = append([]prog{load(pfR, 0, 0x300000, 0, 0)}, pages(MaxSegments)...) },
		want: func(f *File) { f.Segments = pageSegments(MaxSegments); f.Phnum = MaxSegments + 1 },
	},
	{
		name: "MaxSegments and a zero-size load last",
		mod:  func(im *image) { im.Progs = append(pages(MaxSegments), load(pfR, 0, 0x300000, 0, 0)) },
		want: func(f *File) { f.Segments = pageSegments(MaxSegments); f.Phnum = MaxSegments + 1 },
	},
	{
		name: "trailing bytes and section header garbage",
		mod:  func(im *image) { im.Size = 0x3000 },
		patch: func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[40:], 1<<62)  // e_shoff
			binary.LittleEndian.PutUint16(b[52:], 0)      // e_ehsize
			binary.LittleEndian.PutUint16(b[60:], 0xffff) // e_shnum
			return b
		},
	},
}

func TestParseAccepts(t *testing.T) {
	for _, c := range acceptances {
		t.Run(c.name, func(t *testing.T) {
			b := c.bytes()
			want := validFile()
			if c.want != nil {
				c.want(want)
			}
			got, err := Parse(b)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
			for _, v := range checkFile(b, got) {
				t.Errorf("invariant: %s", v.msg)
			}
		})
	}
}

// A PT_PHDR header is taken at its word. File.Phdr promises the address of
// the table "when a segment maps it; else 0", so a PT_PHDR pointing at
// memory no segment maps (or at bytes that are not the table) must either
// be refused or not end up in Phdr.
func TestParsePTPhdrNotMapped(t *testing.T) {
	for _, vaddr := range []uint64{0x800000, 0x401000, 1 << 63} {
		im := valid()
		im.Progs = append(im.Progs, prog{Type: ptPhdr, Flags: pfR, Off: ehSize, Vaddr: vaddr, Filesz: 3 * phSize, Memsz: 3 * phSize, Align: 8})
		b := im.bytes()
		f, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrBadELF) {
				t.Errorf("PT_PHDR at %#x: error %v does not wrap ErrBadELF", vaddr, err)
			}
			continue
		}
		if f.Phdr != 0 && f.Phdr != 0x400040 {
			t.Errorf("PT_PHDR at %#x: Phdr = %#x, which does not map the table (0x400040 does)", vaddr, f.Phdr)
		}
	}
}

func TestParseDoesNotModifyInput(t *testing.T) {
	for _, c := range acceptances {
		b := c.bytes()
		orig := bytes.Clone(b)
		Parse(b)
		if !bytes.Equal(b, orig) {
			t.Errorf("%s: Parse modified its input", c.name)
		}
	}
}

// Every prefix of a valid file that cuts into the header, the table or a
// segment is refused cleanly.
func TestParseTruncated(t *testing.T) {
	b := valid().bytes()
	for n := 0; n < len(b); n++ {
		f, err := Parse(b[:n])
		if err == nil {
			t.Fatalf("Parse accepted the first %d of %d bytes: %+v", n, len(b), f)
		}
		if !errors.Is(err, ErrBadELF) {
			t.Fatalf("%d bytes: error %v does not wrap ErrBadELF", n, err)
		}
	}
}

// goBuild builds a tiny static Go program for linux/amd64 with the given
// -buildmode and returns the executable. Builds are cached per test binary.
func goBuild(tb testing.TB, buildmode string) []byte {
	tb.Helper()
	if testing.Short() {
		tb.Skip("builds a Go program; skipped in -short mode")
	}
	builds.Lock()
	defer builds.Unlock()
	if r, ok := builds.m[buildmode]; ok {
		if r.err != "" {
			tb.Fatal(r.err)
		}
		return r.b
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		tb.Skipf("no go command: %v", err)
	}
	dir, err := os.MkdirTemp("", "elftest")
	if err != nil {
		tb.Fatal(err)
	}
	defer os.RemoveAll(dir)
	const src = `package main

import (
	"fmt"
	"os"
)

var counter = 42

var buf [1 << 16]byte

func main() {
	buf[counter] = byte(len(os.Args))
	fmt.Println("hello from valence", counter, buf[counter])
}
`
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.26\n"), 0o666); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o666); err != nil {
		tb.Fatal(err)
	}
	out := filepath.Join(dir, "hello")
	cmd := exec.Command(goTool, "build", "-buildmode="+buildmode, "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOWORK=off", "GOFLAGS=-buildvcs=false", "GOTOOLCHAIN=local")
	var r buildResult
	if msg, err := cmd.CombinedOutput(); err != nil {
		r.err = "go build -buildmode=" + buildmode + ": " + err.Error() + "\n" + string(msg)
	} else if r.b, err = os.ReadFile(out); err != nil {
		r.err = err.Error()
	}
	builds.m[buildmode] = r
	if r.err != "" {
		tb.Fatal(r.err)
	}
	return r.b
}

type buildResult struct {
	b   []byte
	err string
}

var builds = struct {
	sync.Mutex
	m map[string]buildResult
}{m: map[string]buildResult{}}

func TestParseGoBinary(t *testing.T) {
	b := goBuild(t, "exe")
	f, err := Parse(b)
	if err != nil {
		t.Fatalf("Parse refused a static Go binary: %v", err)
	}
	for _, v := range checkFile(b, f) {
		t.Errorf("invariant: %s", v.msg)
	}
	ef, err := stdelf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("debug/elf: %v", err)
	}
	if f.Entry != ef.Entry {
		t.Errorf("Entry = %#x, debug/elf says %#x", f.Entry, ef.Entry)
	}
	if f.Phnum != uint16(len(ef.Progs)) || f.Phentsize != phSize {
		t.Errorf("Phnum, Phentsize = %d, %d; debug/elf has %d headers", f.Phnum, f.Phentsize, len(ef.Progs))
	}

	// The segments are debug/elf's non-empty PT_LOADs, in address order,
	// with the same file bytes.
	var loads []*stdelf.Prog
	var phdr uint64
	for _, p := range ef.Progs {
		switch p.Type {
		case stdelf.PT_LOAD:
			if p.Memsz > 0 {
				loads = append(loads, p)
			}
		case stdelf.PT_PHDR:
			phdr = p.Vaddr
		}
	}
	if len(loads) != len(f.Segments) {
		t.Fatalf("%d segments, debug/elf has %d PT_LOADs", len(f.Segments), len(loads))
	}
	for i, s := range f.Segments {
		if i > 0 && f.Segments[i-1].Vaddr >= s.Vaddr {
			t.Errorf("segments not sorted: %#x before %#x", f.Segments[i-1].Vaddr, s.Vaddr)
		}
		var p *stdelf.Prog
		for _, q := range loads {
			if q.Vaddr == s.Vaddr {
				p = q
			}
		}
		if p == nil {
			t.Errorf("segment at %#x: no PT_LOAD there in debug/elf", s.Vaddr)
			continue
		}
		want := Segment{Vaddr: p.Vaddr, Memsz: p.Memsz, Offset: p.Off, Filesz: p.Filesz, Prot: protOf(uint32(p.Flags))}
		if diff := cmp.Diff(want, s); diff != "" {
			t.Errorf("segment at %#x (-debug/elf +Parse):\n%s", s.Vaddr, diff)
		}
		data, err := io.ReadAll(p.Open())
		if err != nil {
			t.Fatalf("debug/elf: reading segment at %#x: %v", p.Vaddr, err)
		}
		if !bytes.Equal(b[s.Offset:s.Offset+s.Filesz], data) {
			t.Errorf("segment at %#x: file bytes differ from debug/elf's", s.Vaddr)
		}
	}

	// Text is R+X and holds the entry point; data is R+W.
	seg := func(addr uint64) *Segment {
		for i, s := range f.Segments {
			if addr >= s.Vaddr && addr < s.End() {
				return &f.Segments[i]
			}
		}
		return nil
	}
	text := ef.Section(".text")
	if text == nil {
		t.Fatal("no .text section")
	}
	if s := seg(f.Entry); s == nil || s.Prot != ProtRead|ProtExec {
		t.Errorf("entry %#x is in segment %+v, want an R+X segment", f.Entry, s)
	} else if text.Addr < s.Vaddr || text.Addr+text.Size > s.End() {
		t.Errorf(".text [%#x, %#x) is not inside the entry's segment %+v", text.Addr, text.Addr+text.Size, s)
	}
	for _, name := range []string{".data", ".noptrdata", ".bss"} {
		sec := ef.Section(name)
		if sec == nil {
			t.Errorf("no %s section", name)
			continue
		}
		if s := seg(sec.Addr); s == nil || s.Prot != ProtRead|ProtWrite {
			t.Errorf("%s at %#x is in segment %+v, want an R+W segment", name, sec.Addr, s)
		}
	}

	// Phdr is the PT_PHDR address, and the memory there holds the table.
	if f.Phdr == 0 {
		t.Fatal("Phdr is 0")
	}
	if phdr != 0 && f.Phdr != phdr {
		t.Errorf("Phdr = %#x, PT_PHDR says %#x", f.Phdr, phdr)
	}
	phoff := binary.LittleEndian.Uint64(b[32:])
	size := uint64(f.Phnum) * phSize
	if s := seg(f.Phdr); s == nil || f.Phdr+size > s.Vaddr+s.Filesz {
		t.Errorf("Phdr %#x is not in the file bytes of a segment", f.Phdr)
	} else if off := s.Offset + (f.Phdr - s.Vaddr); !bytes.Equal(b[off:off+size], b[phoff:phoff+size]) {
		t.Errorf("memory at Phdr %#x does not hold the program header table", f.Phdr)
	}

	// The seed FuzzParse uses is valid too.
	small := shrink(b)
	if sf, err := Parse(small); err != nil {
		t.Errorf("Parse refused the shrunk binary: %v", err)
	} else {
		for _, v := range checkFile(small, sf) {
			t.Errorf("shrunk binary: invariant: %s", v.msg)
		}
	}
}

func TestParseGoPIE(t *testing.T) {
	b := goBuild(t, "pie")
	ef, err := stdelf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("debug/elf: %v", err)
	}
	if ef.Type != stdelf.ET_DYN {
		t.Fatalf("-buildmode=pie produced %v, want ET_DYN", ef.Type)
	}
	f, err := Parse(b)
	if err == nil {
		t.Fatalf("Parse accepted a PIE: %+v", f)
	}
	if !errors.Is(err, ErrBadELF) || !strings.Contains(err.Error(), "position-independent executable (ET_DYN)") {
		t.Errorf("Parse(PIE) = %v, want ErrBadELF for ET_DYN", err)
	}
}

func protOf(flags uint32) int {
	prot := 0
	if flags&pfX != 0 {
		prot |= ProtExec
	}
	if flags&pfW != 0 {
		prot |= ProtWrite
	}
	if flags&pfR != 0 {
		prot |= ProtRead
	}
	return prot
}
