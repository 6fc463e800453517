package elf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Known bugs, so that inputs showing only these do not fail the fuzzer
// (they are reported by skipped tests in elf_test.go).
const (
	bugAlign     = "page congruence is not checked when p_align <= 1"
	bugZeroMemsz = "PT_LOAD headers with p_memsz 0 are not validated"
	bugPTPhdr    = "PT_PHDR's p_vaddr is trusted for File.Phdr"
)

type violation struct {
	msg   string
	known string // non-empty: explained by a known bug
}

// checkFile checks, independently of Parse, everything doc.go promises
// about a File that Parse returned for b.
func checkFile(b []byte, f *File) (vs []violation) {
	report := func(known, format string, args ...any) {
		vs = append(vs, violation{fmt.Sprintf(format, args...), known})
	}
	le := binary.LittleEndian
	if len(b) < ehSize {
		report("", "accepted a %d-byte file", len(b))
		return vs
	}
	if string(b[:4]) != "\x7fELF" || b[4] != 2 || b[5] != 1 || b[6] != 1 {
		report("", "accepted e_ident % x", b[:7])
	}
	if typ := le.Uint16(b[16:]); typ != etExec {
		report("", "accepted e_type %d", typ)
	}
	if m := le.Uint16(b[18:]); m != emX86_64 {
		report("", "accepted e_machine %d", m)
	}
	if e := le.Uint64(b[24:]); f.Entry != e {
		report("", "Entry %#x, e_entry %#x", f.Entry, e)
	}
	phoff := le.Uint64(b[32:])
	phentsize, phnum := le.Uint16(b[54:]), le.Uint16(b[56:])
	if phentsize != phSize || f.Phentsize != phentsize || f.Phnum != phnum || phnum == 0 {
		report("", "Phentsize, Phnum = %d, %d; header has %d, %d", f.Phentsize, f.Phnum, phentsize, phnum)
	}
	size := uint64(phnum) * phSize
	tableEnd := phoff + size
	if tableEnd < phoff || tableEnd > uint64(len(b)) {
		report("", "program header table [%#x, %#x) outside the %d-byte file", phoff, tableEnd, len(b))
		return vs
	}

	// The PT_LOAD headers with memory, as Segments, and their p_align.
	type rawLoad struct {
		seg   Segment
		align uint64
	}
	var loads []rawLoad
	var phdrs []uint64
	for i := range uint64(phnum) {
		ph := b[phoff+i*phSize:]
		typ, flags := le.Uint32(ph[0:]), le.Uint32(ph[4:])
		off, vaddr := le.Uint64(ph[8:]), le.Uint64(ph[16:])
		filesz, memsz, align := le.Uint64(ph[32:]), le.Uint64(ph[40:]), le.Uint64(ph[48:])
		switch typ {
		case ptInterp:
			report("", "accepted PT_INTERP (header %d)", i)
		case ptPhdr:
			phdrs = append(phdrs, vaddr)
		case ptLoad:
			if memsz == 0 {
				if filesz > memsz || off+filesz < off || off+filesz > uint64(len(b)) {
					report(bugZeroMemsz, "header %d: PT_LOAD with memsz 0 has file bytes [%#x, %#x+%#x) in a %d-byte file", i, off, off, filesz, len(b))
				}
				continue
			}
			loads = append(loads, rawLoad{Segment{Vaddr: vaddr, Memsz: memsz, Offset: off, Filesz: filesz, Prot: protOf(flags)}, align})
		}
	}

	// The segments are exactly the non-empty PT_LOADs.
	key := func(a, b Segment) int {
		for _, d := range [][2]uint64{{a.Vaddr, b.Vaddr}, {a.Memsz, b.Memsz}, {a.Offset, b.Offset}, {a.Filesz, b.Filesz}, {uint64(a.Prot), uint64(b.Prot)}} {
			if d[0] != d[1] {
				if d[0] < d[1] {
					return -1
				}
				return 1
			}
		}
		return 0
	}
	want := make([]Segment, len(loads))
	for i, l := range loads {
		want[i] = l.seg
	}
	got := slices.Clone(f.Segments)
	slices.SortFunc(want, key)
	slices.SortFunc(got, key)
	if diff := cmp.Diff(want, got); diff != "" {
		report("", "segments are not the PT_LOAD headers (-headers +Segments):\n%s", diff)
	}

	if len(f.Segments) == 0 || len(f.Segments) > MaxSegments {
		report("", "%d segments", len(f.Segments))
	}
	var total uint64
	entryOK := false
	for i, s := range f.Segments {
		if s.Memsz == 0 {
			report("", "segment %d has no memory", i)
		}
		if s.Filesz > s.Memsz {
			report("", "segment %d: filesz %#x > memsz %#x", i, s.Filesz, s.Memsz)
		}
		if s.Offset+s.Filesz < s.Offset || s.Offset+s.Filesz > uint64(len(b)) {
			report("", "segment %d: file bytes [%#x, +%#x) outside the %d-byte file", i, s.Offset, s.Filesz, len(b))
		}
		if s.Vaddr < MinAddress || s.End() < s.Vaddr || s.End() > UserLimit {
			report("", "segment %d: [%#x, +%#x) outside [MinAddress, UserLimit)", i, s.Vaddr, s.Memsz)
		}
		if s.Vaddr%PageSize != s.Offset%PageSize {
			known := ""
			for _, l := range loads {
				if l.seg == s && l.align <= 1 {
					known = bugAlign
				}
			}
			report(known, "segment %d: address %#x and offset %#x disagree modulo the page size", i, s.Vaddr, s.Offset)
		}
		if s.Prot&^(ProtRead|ProtWrite|ProtExec) != 0 {
			report("", "segment %d: Prot %#x", i, s.Prot)
		}
		if i > 0 {
			prev := f.Segments[i-1]
			if prev.Vaddr > s.Vaddr {
				report("", "segments %d and %d not sorted", i-1, i)
			} else if prev.End() > s.Vaddr {
				report("", "segments [%#x, %#x) and [%#x, %#x) overlap", prev.Vaddr, prev.End(), s.Vaddr, s.End())
			}
		}
		if total+s.Memsz < total {
			total = ^uint64(0)
		} else {
			total += s.Memsz
		}
		if f.Entry >= s.Vaddr && f.Entry-s.Vaddr < s.Memsz && s.Prot&ProtExec != 0 {
			entryOK = true
		}
	}
	if total > MaxImage {
		report("", "segments total %#x > MaxImage", total)
	}
	if !entryOK {
		report("", "entry %#x not in an executable segment", f.Entry)
	}

	// Phdr is where a segment maps the table; 0 if none does.
	mapsAt := func(s Segment, addr uint64) bool {
		if addr < s.Vaddr || addr-s.Vaddr > s.Filesz {
			return false
		}
		d := addr - s.Vaddr
		return size <= s.Filesz-d && s.Offset+d == phoff
	}
	if f.Phdr != 0 {
		ok := false
		for _, s := range f.Segments {
			ok = ok || mapsAt(s, f.Phdr)
		}
		if !ok {
			known := ""
			if slices.Contains(phdrs, f.Phdr) {
				known = bugPTPhdr
			}
			report(known, "Phdr %#x: no segment maps the program header table there", f.Phdr)
		}
	} else {
		for _, s := range f.Segments {
			if phoff >= s.Offset && tableEnd <= s.Offset+s.Filesz {
				report("", "Phdr 0 though segment at %#x maps the program header table", s.Vaddr)
			}
		}
	}
	return vs
}

// shrink cuts an executable to its first 4 KiB and patches the PT_LOAD
// headers so their file bytes stay inside, for a small fuzzing seed.
func shrink(b []byte) []byte {
	n := min(len(b), 4096)
	s := bytes.Clone(b[:n])
	if n < ehSize {
		return s
	}
	le := binary.LittleEndian
	le.PutUint64(s[40:], 0) // e_shoff
	le.PutUint16(s[60:], 0) // e_shnum
	le.PutUint16(s[62:], 0) // e_shstrndx
	phoff, phnum := le.Uint64(s[32:]), uint64(le.Uint16(s[56:]))
	for i := uint64(0); i < phnum && phoff <= uint64(n) && (i+1)*phSize <= uint64(n)-phoff; i++ {
		ph := s[phoff+i*phSize:]
		if le.Uint32(ph) != ptLoad {
			continue
		}
		off, vaddr, filesz := le.Uint64(ph[8:]), le.Uint64(ph[16:]), le.Uint64(ph[32:])
		switch {
		case off >= uint64(n):
			off, filesz = vaddr%PageSize, 0
		case filesz > uint64(n)-off:
			filesz = uint64(n) - off
		}
		le.PutUint64(ph[8:], off)
		le.PutUint64(ph[32:], filesz)
	}
	return s
}

// compactSeeds are small valid executables, so the fuzzer's mutations
// land on header fields rather than filler.
func compactSeeds() [][]byte {
	tiny := func(extra ...prog) image {
		im := valid()
		im.Progs = append([]prog{
			load(pfR|pfX, 0, 0x400000, 0, 0x1000),
			load(pfR|pfW, 0, 0x401000, 0, 0x1000),
		}, extra...)
		im.Size = 0
		n := uint64(ehSize + len(im.Progs)*phSize)
		im.Progs[0].Filesz = n
		im.Progs[1].Off, im.Progs[1].Vaddr, im.Progs[1].Filesz = n-8, 0x401000+n-8, 8
		return im
	}
	var seeds [][]byte
	for _, align := range []uint64{PageSize, 0, 1} {
		im := tiny()
		im.Progs[0].Align, im.Progs[1].Align = align, align
		seeds = append(seeds, im.bytes())
	}
	seeds = append(seeds,
		tiny(prog{Type: ptPhdr, Flags: pfR, Off: ehSize, Vaddr: 0x400000 + ehSize, Filesz: 3 * phSize, Memsz: 3 * phSize, Align: 8}).bytes(),
		tiny(load(pfR, 0, 0x500000, 0, 0)).bytes(),
		tiny(load(pfR, 0, 0x500000, 0, 0x1000)).bytes(),
		tiny(prog{Type: ptNote, Flags: pfR, Off: 0x40, Vaddr: 0x400040, Filesz: 0x10, Memsz: 0x10, Align: 4}).bytes(),
	)
	return seeds
}

func FuzzParse(f *testing.F) {
	for _, b := range compactSeeds() {
		f.Add(b)
	}
	for _, c := range acceptances {
		f.Add(c.bytes())
	}
	for _, c := range refusals {
		f.Add(c.bytes())
	}
	if !testing.Short() {
		f.Add(shrink(goBuild(f, "exe")))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		orig := bytes.Clone(b)
		file, err := Parse(b)
		if !bytes.Equal(b, orig) {
			t.Fatal("Parse modified its input")
		}
		if err != nil {
			if !errors.Is(err, ErrBadELF) {
				t.Errorf("error %v does not wrap ErrBadELF", err)
			}
			if file != nil {
				t.Errorf("Parse returned a File with its error: %+v", file)
			}
			return
		}
		if file == nil {
			t.Fatal("Parse returned neither a File nor an error")
		}
		again, err := Parse(b)
		if err != nil {
			t.Fatalf("second Parse failed: %v", err)
		}
		if diff := cmp.Diff(file, again); diff != "" {
			t.Errorf("Parse is not deterministic (-first +second):\n%s", diff)
		}
		for _, v := range checkFile(b, file) {
			t.Errorf("invariant: %s", v.msg)
		}
	})
}

// The fuzzer's oracle is only as good as checkFile: make sure it notices
// Files that break the promises.
func TestCheckFileCatches(t *testing.T) {
	b := valid().bytes()
	if vs := checkFile(b, validFile()); len(vs) != 0 {
		t.Fatalf("checkFile(valid) = %v", vs)
	}
	breaks := map[string]func(*File){
		"unsorted":         func(f *File) { f.Segments[0], f.Segments[1] = f.Segments[1], f.Segments[0] },
		"overlap":          func(f *File) { f.Segments[0].Memsz++ },
		"segment dropped":  func(f *File) { f.Segments = f.Segments[:1] },
		"no segments":      func(f *File) { f.Segments = nil },
		"entry in data":    func(f *File) { f.Entry = 0x401000 },
		"wrong entry":      func(f *File) { f.Entry = 0x400200 },
		"prot":             func(f *File) { f.Segments[1].Prot |= 8 },
		"phdr wrong":       func(f *File) { f.Phdr = 0x400048 },
		"phdr missing":     func(f *File) { f.Phdr = 0 },
		"phnum":            func(f *File) { f.Phnum = 1 },
		"below MinAddress": func(f *File) { f.Segments[0].Vaddr = 0 },
		"above UserLimit":  func(f *File) { f.Segments[1].Vaddr = UserLimit },
		"file range":       func(f *File) { f.Segments[1].Filesz = 0x1000 },
		"too big":          func(f *File) { f.Segments[1].Memsz = MaxImage },
	}
	for name, brk := range breaks {
		f := validFile()
		brk(f)
		unknown := 0
		for _, v := range checkFile(b, f) {
			if v.known == "" {
				unknown++
			}
		}
		if unknown == 0 {
			t.Errorf("%s: checkFile found nothing wrong with %+v", name, f)
		}
	}
}

func TestCompactSeedsValid(t *testing.T) {
	for i, b := range compactSeeds() {
		f, err := Parse(b)
		if err != nil {
			t.Errorf("seed %d (%d bytes): %v", i, len(b), err)
			continue
		}
		for _, v := range checkFile(b, f) {
			t.Errorf("seed %d: invariant: %s", i, v.msg)
		}
	}
}
