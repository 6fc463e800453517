package multiboot

import (
	"encoding/binary"
	"sort"
	"testing"
)

// fakeMem is physical memory made of disjoint byte slices keyed by their
// base address. A range is readable only if it lies inside one slice,
// which is enough to model holes and the end of memory.
type fakeMem map[uint64][]byte

func (m fakeMem) Slice(pa, n uint64) ([]byte, bool) {
	for base, b := range m {
		if pa < base {
			continue
		}
		off := pa - base
		if off > uint64(len(b)) || n > uint64(len(b))-off {
			continue
		}
		return b[off : off+n], true
	}
	return nil, false
}

// blobMem is memory made of one slice at base: what the fuzz targets
// use, because it answers faster than a map.
type blobMem struct {
	base uint64
	b    []byte
}

func (m blobMem) Slice(pa, n uint64) ([]byte, bool) {
	if pa < m.base {
		return nil, false
	}
	off := pa - m.base
	if off > uint64(len(m.b)) || n > uint64(len(m.b))-off {
		return nil, false
	}
	return m.b[off : off+n], true
}

// checkDisjoint fails the test if two slices overlap, which would make
// Slice's answer depend on map iteration order.
func (m fakeMem) checkDisjoint(t testing.TB) {
	t.Helper()
	for a, x := range m {
		for b, y := range m {
			if a < b && a+uint64(len(x)) > b {
				t.Fatalf("fake memory at %#x (%d bytes) overlaps %#x (%d bytes)", a, len(x), b, len(y))
			}
		}
	}
}

// shortMem is a broken Memory that claims success but returns one byte
// less than asked, to check that Parse does not trust it.
type shortMem struct{ fakeMem }

func (m shortMem) Slice(pa, n uint64) ([]byte, bool) {
	b, ok := m.fakeMem.Slice(pa, n)
	if !ok || len(b) == 0 {
		return b, ok
	}
	return b[:len(b)-1], true
}

// header describes the fields of an information structure that the
// tests set; bytes they do not set are zero.
type header struct {
	flags              uint32
	memLower, memUpper uint32
	cmdline            uint32
	modsCount          uint32
	modsAddr           uint32
	mmapLength         uint32
	mmapAddr           uint32
}

func (h header) bytes() []byte {
	b := make([]byte, InfoSize)
	le := binary.LittleEndian
	le.PutUint32(b[offFlags:], h.flags)
	le.PutUint32(b[offMemLower:], h.memLower)
	le.PutUint32(b[offMemUpper:], h.memUpper)
	le.PutUint32(b[offCmdline:], h.cmdline)
	le.PutUint32(b[offModsCount:], h.modsCount)
	le.PutUint32(b[offModsAddr:], h.modsAddr)
	le.PutUint32(b[offMmapLength:], h.mmapLength)
	le.PutUint32(b[offMmapAddr:], h.mmapAddr)
	return b
}

// mmapEntry encodes one memory map entry whose size field is size
// (normally 20); the body is padded or cut to match it.
func mmapEntry(size uint32, r Region) []byte {
	body := make([]byte, 20)
	le := binary.LittleEndian
	le.PutUint64(body[0:], r.Base)
	le.PutUint64(body[8:], r.Len)
	le.PutUint32(body[16:], r.Type)
	for uint32(len(body)) < size {
		body = append(body, 0xEE)
	}
	if uint32(len(body)) > size {
		body = body[:size]
	}
	return append(le.AppendUint32(nil, size), body...)
}

func mmap(rs ...Region) []byte {
	var b []byte
	for _, r := range rs {
		b = append(b, mmapEntry(20, r)...)
	}
	return b
}

func modList(mods ...[3]uint32) []byte {
	var b []byte
	for _, m := range mods {
		for _, v := range m {
			b = binary.LittleEndian.AppendUint32(b, v)
		}
		b = binary.LittleEndian.AppendUint32(b, 0)
	}
	return b
}

func cstr(s string) []byte { return append([]byte(s), 0) }

// refAvailable is an independent model of Available used to check it:
// it splits the address space at every endpoint into elementary
// intervals, keeps those covered by an available region and by no
// exclusion, joins neighbours and shrinks each run to whole pages.
func refAvailable(in *Info, excl []Region) []Region {
	type span struct{ b, e uint64 }
	var avail, bad []span
	for i := 0; i < clampCount(in.NRegions, MaxRegions); i++ {
		r := in.Regions[i]
		s := span{r.Base, satAdd(r.Base, r.Len)}
		if r.Type == TypeAvailable {
			avail = append(avail, s)
		} else {
			bad = append(bad, s)
		}
	}
	for i := 0; i < clampCount(in.NReserved, MaxRegions); i++ {
		r := in.Reserved[i]
		bad = append(bad, span{r.Base, satAdd(r.Base, r.Len)})
	}
	for i := 0; i < clampCount(in.NModules, MaxModules); i++ {
		bad = append(bad, span{in.Modules[i].Start, in.Modules[i].End})
	}
	for _, r := range excl {
		bad = append(bad, span{r.Base, satAdd(r.Base, r.Len)})
	}
	var pts []uint64
	for _, s := range append(append([]span(nil), avail...), bad...) {
		if s.b < s.e {
			pts = append(pts, s.b, s.e)
		}
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i] < pts[j] })
	covered := func(list []span, b, e uint64) bool {
		for _, s := range list {
			if s.b <= b && e <= s.e {
				return true
			}
		}
		return false
	}
	var runs []span
	for k := 0; k+1 < len(pts); k++ {
		b, e := pts[k], pts[k+1]
		if b == e || !covered(avail, b, e) || covered(bad, b, e) {
			continue
		}
		if n := len(runs); n > 0 && runs[n-1].e == b {
			runs[n-1].e = e
		} else {
			runs = append(runs, span{b, e})
		}
	}
	var out []Region
	for _, s := range runs {
		if s.b > ^uint64(0)-(PageSize-1) {
			continue
		}
		b := (s.b + PageSize - 1) &^ (PageSize - 1)
		e := s.e &^ (PageSize - 1)
		if b < e {
			out = append(out, Region{Base: b, Len: e - b, Type: TypeAvailable})
		}
	}
	return out
}
