package mm

import (
	"errors"
	"strings"
	"testing"

	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/mm/frame"
	"valence.dev/microkernel/mm/vma"
)

// The debug checkers run here over fake physical memory: page tables kept
// in a map by made-up physical address, and a real frame allocator over a
// bitmap the test owns. Each test builds a healthy state, checks that the
// checker passes it, then breaks one thing at a time and checks that the
// checker names it.

const ckNX = amd64.PTENoExec

// ckMem is fake physical memory.
type ckMem struct {
	t      *testing.T
	bitmap []uint64
	alloc  frame.Allocator
	tables map[uint64]*amd64.PageTable
}

func newCkMem(t *testing.T) *ckMem {
	const nframes = 1024
	m := &ckMem{t: t, bitmap: make([]uint64, frame.WordsFor(nframes)), tables: map[uint64]*amd64.PageTable{}}
	if err := m.alloc.Init(m.bitmap, nframes); err != nil {
		t.Fatal(err)
	}
	if err := m.alloc.AddFree(0, nframes*PageSize); err != nil {
		t.Fatal(err)
	}
	return m
}

// frame allocates a frame.
func (m *ckMem) frame() uint64 {
	pa, err := m.alloc.Alloc()
	if err != nil {
		m.t.Fatal(err)
	}
	return pa
}

// table is the tableFunc of the fake memory: every frame can be read as a
// table, which starts out empty.
func (m *ckMem) table(pa uint64) *amd64.PageTable {
	pa &^= PageSize - 1
	t := m.tables[pa]
	if t == nil {
		t = new(amd64.PageTable)
		m.tables[pa] = t
	}
	return t
}

func (m *ckMem) used(pa uint64) bool { return m.alloc.Used(pa) }

// mapPage sets the level-1 entry for va to e, making the tables on the
// way (present, writable, plus inter) as MapPage does; it returns how many
// tables it made.
func (m *ckMem) mapPage(root, va, e, inter uint64) int {
	made := 0
	t := m.table(root)
	for level := 4; level > 1; level-- {
		p := &t[amd64.Index(va, level)]
		if *p == 0 {
			*p = m.frame() | amd64.PTEPresent | amd64.PTEWrite | inter
			made++
		}
		t = m.table(*p & amd64.PTEAddrMask)
	}
	t[amd64.Index(va, 1)] = e
	return made
}

// entry returns the entry for va at level (which must exist above it).
func (m *ckMem) entry(root, va uint64, level int) *uint64 {
	t := m.table(root)
	for l := 4; l > level; l-- {
		t = m.table(t[amd64.Index(va, l)] & amd64.PTEAddrMask)
	}
	return &t[amd64.Index(va, level)]
}

// ckSpace is a healthy user address space: text (two pages present, RX),
// data (three of four pages present, RW), a PROT_NONE guard with a page
// hidden in it, and a read-only shared mapping of a two-page object.
type ckSpace struct {
	*ckMem
	root    uint64
	kernel  *amd64.PageTable
	storage []vma.Region
	l       layout
	pages   int64
	obj     []uint64
	data    []uint64 // the data pages' frames
}

const (
	ckText   = 0x400000
	ckData   = 0x600000
	ckGuard  = 0x700000
	ckShared = 0x800000
	ckUnused = 0x900000
)

func newCkSpace(t *testing.T) *ckSpace {
	s := &ckSpace{ckMem: newCkMem(t), storage: make([]vma.Region, 16)}
	s.l.set.Init(s.storage, UserMin, UserMax)
	s.root = s.frame()
	s.pages = 1
	// The kernel half: some PDPTs shared with the kernel's PML4.
	s.kernel = new(amd64.PageTable)
	for i := 256; i < amd64.TableEntries; i += 64 {
		s.kernel[i] = s.frame() | amd64.PTEPresent | amd64.PTEWrite
	}
	copy(s.table(s.root)[256:], s.kernel[256:])

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	user := uint64(amd64.PTEPresent | amd64.PTEUser)
	page := func(va, e uint64) {
		s.pages += int64(s.mapPage(s.root, va, e, amd64.PTEUser))
	}
	must(s.l.mapRegion(ckText, ckText+2*PageSize, vma.Read|vma.Exec, 0))
	for i := uint64(0); i < 2; i++ {
		page(ckText+i*PageSize, s.frame()|user)
		s.pages++
	}
	must(s.l.mapRegion(ckData, ckData+4*PageSize, vma.Read|vma.Write, 0))
	for i := uint64(0); i < 3; i++ {
		pa := s.frame()
		s.data = append(s.data, pa)
		page(ckData+i*PageSize, pa|user|amd64.PTEWrite|ckNX)
		s.pages++
	}
	must(s.l.mapRegion(ckGuard, ckGuard+2*PageSize, 0, 0))
	page(ckGuard, s.frame()|swProtNone)
	s.pages++
	s.obj = []uint64{s.frame(), s.frame()}
	must(s.l.mapRegion(ckShared, ckShared+2*PageSize, vma.Read, regionShared|maxFlags(vma.Read)))
	for i, pa := range s.obj {
		page(ckShared+uint64(i)*PageSize, pa|user|ckNX|swShared)
	}
	s.l.addShared(ckShared, s.obj, func() {})
	return s
}

func (s *ckSpace) check() error {
	return checkSpace(s.table, s.used, ckNX, s.kernel, s.root, &s.l, s.pages)
}

// region returns the storage slot of the region starting at va.
func (s *ckSpace) region(va uint64) *vma.Region {
	for i := range s.storage[:s.l.set.Len()] {
		if s.storage[i].Start == va {
			return &s.storage[i]
		}
	}
	panic("no region")
}

func TestCheckSpace(t *testing.T) {
	if err := newCkSpace(t).check(); err != nil {
		t.Fatalf("a healthy address space: %v", err)
	}
	tests := []struct {
		name   string
		break_ func(s *ckSpace)
		want   string
	}{
		{"page outside every region", func(s *ckSpace) {
			s.pages += int64(s.mapPage(s.root, ckUnused, s.frame()|amd64.PTEPresent|amd64.PTEUser, amd64.PTEUser)) + 1
		}, "outside every region"},
		{"writable text", func(s *ckSpace) {
			*s.entry(s.root, ckText, 1) |= amd64.PTEWrite
		}, "is writable"},
		{"executable data", func(s *ckSpace) {
			*s.entry(s.root, ckData, 1) &^= ckNX
		}, "is executable"},
		{"writable shared page of a read-only mapping", func(s *ckSpace) {
			*s.entry(s.root, ckShared+PageSize, 1) |= amd64.PTEWrite
		}, "is writable"},
		{"present page in PROT_NONE", func(s *ckSpace) {
			e := s.entry(s.root, ckGuard, 1)
			*e = *e&amd64.PTEAddrMask | amd64.PTEPresent | amd64.PTEUser | ckNX
		}, "PROT_NONE"},
		{"kernel-only page", func(s *ckSpace) {
			*s.entry(s.root, ckData+PageSize, 1) &^= amd64.PTEUser
		}, "user bit"},
		{"global user page", func(s *ckSpace) {
			*s.entry(s.root, ckData+PageSize, 1) |= amd64.PTEGlobal
		}, "global bit"},
		{"stray bits in an empty entry", func(s *ckSpace) {
			*s.entry(s.root, ckData+3*PageSize, 1) = 0x1000
			s.pages++
		}, "neither present nor hidden"},
		{"page count too high", func(s *ckSpace) { s.pages++ }, "counts"},
		{"page count too low", func(s *ckSpace) { s.pages-- }, "counts"},
		{"mapped frame freed", func(s *ckSpace) {
			if err := s.alloc.Free(s.data[1]); err != nil {
				t.Fatal(err)
			}
		}, "free frame"},
		{"page table freed", func(s *ckSpace) {
			pt := *s.entry(s.root, ckData, 2) & amd64.PTEAddrMask
			if err := s.alloc.Free(pt); err != nil {
				t.Fatal(err)
			}
		}, "table for"},
		{"frame mapped twice", func(s *ckSpace) {
			*s.entry(s.root, ckData+3*PageSize, 1) = s.data[0] | amd64.PTEPresent | amd64.PTEUser | amd64.PTEWrite | ckNX
			s.pages++
		}, "mapped at both"},
		{"object frame in private memory", func(s *ckSpace) {
			*s.entry(s.root, ckData+3*PageSize, 1) = s.obj[0] | amd64.PTEPresent | amd64.PTEUser | amd64.PTEWrite | ckNX
			s.pages++
		}, "shared memory object"},
		{"shared page not marked shared", func(s *ckSpace) {
			*s.entry(s.root, ckShared, 1) &^= swShared
		}, "shared bit"},
		{"shared page maps another frame", func(s *ckSpace) {
			e := s.entry(s.root, ckShared, 1)
			*e = *e&^amd64.PTEAddrMask | s.obj[1]
		}, "its record names"},
		{"shared object freed under its mapping", func(s *ckSpace) {
			if err := s.alloc.Free(s.obj[1]); err != nil {
				t.Fatal(err)
			}
		}, "not a live object"},
		{"shared record with a frame missing", func(s *ckSpace) {
			s.l.shared[0].frames = s.l.shared[0].frames[:1]
		}, "malformed shared record"},
		{"shared region without a record", func(s *ckSpace) {
			s.l.shared = nil
		}, "without a record"},
		{"regions out of order", func(s *ckSpace) {
			s.storage[0], s.storage[1] = s.storage[1], s.storage[0]
		}, "overlap or are out of order"},
		{"regions overlap", func(s *ckSpace) {
			s.region(ckText).End = ckData + PageSize
		}, "overlap or are out of order"},
		{"unaligned region", func(s *ckSpace) {
			s.region(ckData).End -= 8
		}, "unaligned"},
		{"region in the kernel half", func(s *ckSpace) {
			s.storage[s.l.set.Len()-1].End = UserMax + PageSize
		}, "outside the window"},
		{"bad protection bits", func(s *ckSpace) {
			s.region(ckData).Prot |= 8
		}, "bad prot"},
		{"unknown kind bits", func(s *ckSpace) {
			s.region(ckData).Flags |= 1 << 9
		}, "unknown kind bits"},
		{"protection beyond the maximum", func(s *ckSpace) {
			s.region(ckShared).Prot |= vma.Write
		}, "beyond its maximum"},
		{"kernel half differs", func(s *ckSpace) {
			s.table(s.root)[300] = s.frame() | amd64.PTEPresent | amd64.PTEWrite | amd64.PTEUser
		}, "PML4 entry 300"},
		{"huge page in the user half", func(s *ckSpace) {
			*s.entry(s.root, ckData, 2) |= amd64.PTEHuge
		}, "huge page"},
		{"stray intermediate entry", func(s *ckSpace) {
			s.table(s.root)[100] = 0x5000
		}, "not present but not empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newCkSpace(t)
			tc.break_(s)
			err := s.check()
			if err == nil {
				t.Fatalf("the checker passed it")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q, want it to mention %q", err, tc.want)
			}
		})
	}
}

// TestCheckSpaceAccessedBit: the CPU sets the accessed bit in whichever
// PML4 it walks, so the kernel half may differ from the kernel's in that
// bit alone.
func TestCheckSpaceAccessedBit(t *testing.T) {
	s := newCkSpace(t)
	s.table(s.root)[256] |= amd64.PTEAccessed
	if err := s.check(); err != nil {
		t.Fatal(err)
	}
}

// ckHeap is a healthy kernel heap window: a read-write region with three
// pages present, a read-only one with one, and a PROT_NONE one with a page
// hidden.
type ckHeap struct {
	*ckMem
	root      uint64
	storage   []vma.Region
	set       vma.Set
	committed uint64
	pages     []uint64 // the read-write region's frames
}

const (
	ckHeapRW   = HeapBase
	ckHeapRO   = HeapBase + 0x10000
	ckHeapNone = HeapBase + 0x20000
)

func newCkHeap(t *testing.T) *ckHeap {
	h := &ckHeap{ckMem: newCkMem(t), storage: make([]vma.Region, 8)}
	h.set.Init(h.storage, HeapBase, HeapBase+HeapSize)
	h.root = h.frame()
	kpage := uint64(amd64.PTEPresent | amd64.PTEGlobal | ckNX)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(h.set.Map(ckHeapRW, ckHeapRW+4*PageSize, vma.Read|vma.Write, 0))
	for i := uint64(0); i < 3; i++ {
		pa := h.frame()
		h.pages = append(h.pages, pa)
		h.mapPage(h.root, ckHeapRW+i*PageSize, pa|kpage|amd64.PTEWrite, 0)
	}
	must(h.set.Map(ckHeapRO, ckHeapRO+PageSize, vma.Read, 0))
	h.mapPage(h.root, ckHeapRO, h.frame()|kpage, 0)
	must(h.set.Map(ckHeapNone, ckHeapNone+PageSize, 0, 0))
	h.mapPage(h.root, ckHeapNone, h.frame()|swProtNone, 0)
	h.committed = 5
	return h
}

func (h *ckHeap) check() error {
	if v := checkPhys(h.table, &h.alloc, ckNX, h.root, &h.set, h.committed); v.what != "" {
		return v
	}
	return nil
}

func TestCheckPhys(t *testing.T) {
	if err := newCkHeap(t).check(); err != nil {
		t.Fatalf("a healthy heap: %v", err)
	}
	tests := []struct {
		name   string
		break_ func(h *ckHeap)
		want   string
		is     error // the frame allocator's finding, if it is one
	}{
		{"bitmap bit cleared behind the allocator's back", func(h *ckHeap) {
			h.bitmap[0] &^= 1 << 5
		}, "frame allocator", frame.ErrCheckFree},
		{"frame 0 freed", func(h *ckHeap) {
			h.bitmap[0] &^= 1
		}, "frame allocator", frame.ErrCheckFrameZero},
		{"committed too high", func(h *ckHeap) { h.committed++ }, "committed count", nil},
		{"committed too low", func(h *ckHeap) { h.committed-- }, "committed count", nil},
		{"committed beyond the allocated frames", func(h *ckHeap) { h.committed = 1 << 20 }, "more frames than are allocated", nil},
		{"page outside every region", func(h *ckHeap) {
			h.mapPage(h.root, HeapBase+0x30000, h.frame()|amd64.PTEPresent|ckNX, 0)
			h.committed++
		}, "outside every heap region", nil},
		{"heap page freed", func(h *ckHeap) {
			if err := h.alloc.Free(h.pages[2]); err != nil {
				t.Fatal(err)
			}
		}, "page on a free frame", nil},
		{"heap table freed", func(h *ckHeap) {
			if err := h.alloc.Free(*h.entry(h.root, ckHeapRW, 2) & amd64.PTEAddrMask); err != nil {
				t.Fatal(err)
			}
		}, "page table is on a free frame", nil},
		{"writable page in a read-only region", func(h *ckHeap) {
			*h.entry(h.root, ckHeapRO, 1) |= amd64.PTEWrite
		}, "writable page", nil},
		{"executable heap page", func(h *ckHeap) {
			*h.entry(h.root, ckHeapRW, 1) &^= ckNX
		}, "executable page", nil},
		{"user-accessible heap page", func(h *ckHeap) {
			*h.entry(h.root, ckHeapRW+PageSize, 1) |= amd64.PTEUser
		}, "user-accessible", nil},
		{"present page in PROT_NONE", func(h *ckHeap) {
			e := h.entry(h.root, ckHeapNone, 1)
			*e = *e&amd64.PTEAddrMask | amd64.PTEPresent | ckNX
		}, "PROT_NONE", nil},
		{"huge page", func(h *ckHeap) {
			*h.entry(h.root, ckHeapRW, 2) |= amd64.PTEHuge
			h.committed -= 3
		}, "huge page", nil},
		{"regions overlap", func(h *ckHeap) {
			h.storage[0].End = ckHeapRO + PageSize
		}, "regions are corrupt", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newCkHeap(t)
			tc.break_(h)
			err := h.check()
			if err == nil {
				t.Fatalf("the checker passed it")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q, want it to mention %q", err, tc.want)
			}
			if tc.is != nil {
				if v, _ := err.(memViolation); !errors.Is(v.err, tc.is) {
					t.Errorf("got %v, want %v", err, tc.is)
				}
			}
		})
	}
}

// TestCheckPhysDoesNotAllocate: the heap half of CheckFrames runs with
// interrupts off, where allocating could fault into the frame allocator
// it is reading.
func TestCheckPhysDoesNotAllocate(t *testing.T) {
	h := newCkHeap(t)
	if n := testing.AllocsPerRun(10, func() {
		if v := checkPhys(h.table, &h.alloc, ckNX, h.root, &h.set, h.committed); v.what != "" {
			t.Fatal(v)
		}
	}); n != 0 {
		t.Errorf("checkPhys allocates %v times per run", n)
	}
}

func TestProtString(t *testing.T) {
	for p, want := range map[vma.Prot]string{0: "---", vma.Read: "r--", vma.Read | vma.Exec: "r-x", vma.Read | vma.Write | vma.Exec: "rwx", vma.Write: "-w-"} {
		if got := protString(p); got != want {
			t.Errorf("protString(%d) = %q, want %q", p, got, want)
		}
	}
}

// TestSharedFrames is CheckShared's core: the records of a mapped object
// must name allocated frames.
func TestSharedFrames(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(s *ckSpace)
		want   string // "" for no error
	}{
		{"healthy", func(s *ckSpace) {}, ""},
		{"object freed under its mapping", func(s *ckSpace) {
			if err := s.alloc.Free(s.obj[0]); err != nil {
				t.Fatal(err)
			}
		}, "not a live object"},
		{"frame 0 in a record", func(s *ckSpace) { s.l.shared[0].frames[1] = 0 }, "not a live object"},
		{"unaligned frame in a record", func(s *ckSpace) { s.l.shared[0].frames[1] |= 8 }, "not a live object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newCkSpace(t)
			tc.break_(s)
			set, err := sharedFrames(&s.l, s.used)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tc.want == "" && len(set) != len(s.obj):
				t.Errorf("got %d shared frames, want %d", len(set), len(s.obj))
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

// TestCountTablePages: the tables translating a range are counted once
// each, however many 2 MiB windows share a directory (MapShared's
// accounting once counted a new directory once per window).
func TestCountTablePages(t *testing.T) {
	m := newCkMem(t)
	root := m.frame()
	mapAt := func(va uint64) {
		t.Helper()
		tb := m.table(root)
		for level := 4; level > 1; level-- {
			e := &tb[amd64.Index(va, level)]
			if *e&amd64.PTEPresent == 0 {
				*e = m.frame() | amd64.PTEPresent
			}
			tb = m.table(*e & amd64.PTEAddrMask)
		}
	}
	const base = 0x200000000000 // a fresh GiB: no tables yet
	tests := []struct {
		name       string
		start, end uint64
		want       int
	}{
		{"nothing mapped", base, base + 8<<20, 0},
		{"one page", base, base + 4096, 3},                              // PDPT, PD, PT
		{"three windows", base, base + 6<<20, 5},                        // PDPT, PD, 3 PTs
		{"across a GiB", base + 1<<30 - 2<<20, base + 1<<30 + 2<<20, 5}, // PDPT, 2 PDs, 2 PTs
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m.tables = map[uint64]*amd64.PageTable{}
			root = m.frame()
			if tc.want > 0 {
				for va := tc.start; va < tc.end; va += 4096 {
					mapAt(va)
				}
			}
			if got := countTablePages(m.table, root, tc.start, tc.end); got != tc.want {
				t.Errorf("countTablePages = %d, want %d", got, tc.want)
			}
		})
	}
}
