package mm

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// phdr is one program header for elfPage.
type phdr struct {
	typ, flags   uint32
	vaddr, memsz uint64
}

// elfPage builds the first page of an ELF executable with the given
// program headers right after the ELF header, as the Go linker lays it out.
func elfPage(phs ...phdr) []byte {
	b := make([]byte, PageSize)
	copy(b, "\x7fELF\x02\x01\x01")
	le := binary.LittleEndian
	le.PutUint16(b[16:], 2)  // ET_EXEC
	le.PutUint16(b[18:], 62) // EM_X86_64
	le.PutUint64(b[32:], elfHeaderSize)
	le.PutUint16(b[54:], elfPhdrSize)
	le.PutUint16(b[56:], uint16(len(phs)))
	for i, ph := range phs {
		p := b[elfHeaderSize+i*elfPhdrSize:]
		le.PutUint32(p[0:], ph.typ)
		le.PutUint32(p[4:], ph.flags)
		le.PutUint64(p[16:], ph.vaddr)
		le.PutUint64(p[40:], ph.memsz)
	}
	return b
}

const (
	rx = 5 // PF_R|PF_X
	r  = 4
	rw = 6
)

// goKernel is the layout the Go linker gives the kernel: a PHDR and a NOTE
// header, then text, rodata, and data with bss.
var goKernel = []phdr{
	{6, r, KernelBase + 0x200040, 0x150},
	{4, r, KernelBase + 0x200f78, 0x64},
	{elfPTLoad, rx, KernelBase + 0x200000, 0x13a991},
	{elfPTLoad, r, KernelBase + 0x33b000, 0x18a8b8},
	{elfPTLoad, rw, KernelBase + 0x4c6000, 0x169fa0},
	{0x6474e551, rw, 0, 0}, // PT_GNU_STACK
}

func TestImageSegments(t *testing.T) {
	got := make([]Segment, MaxImageSegments)
	n, err := ImageSegments(elfPage(goKernel...), got)
	if err != nil {
		t.Fatal(err)
	}
	want := []Segment{
		{Start: KernelBase + 0x200000, End: KernelBase + 0x33a991, Exec: true},
		{Start: KernelBase + 0x33b000, End: KernelBase + 0x4c58b8},
		{Start: KernelBase + 0x4c6000, End: KernelBase + 0x62ffa0, Write: true},
	}
	if diff := cmp.Diff(want, got[:n]); diff != "" {
		t.Errorf("segments (-want +got):\n%s", diff)
	}

	// Out of order in the file, sorted in the result.
	rev := []phdr{goKernel[4], goKernel[2], goKernel[3]}
	if n, err := ImageSegments(elfPage(rev...), got); err != nil || !cmp.Equal(want, got[:n]) {
		t.Errorf("reordered headers: %v, %v", got[:n], err)
	}
}

func TestImageSegmentsRefused(t *testing.T) {
	load := func(flags uint32, va, size uint64) phdr { return phdr{elfPTLoad, flags, va, size} }
	badMagic := elfPage(goKernel...)
	badMagic[1] = 'X'
	class32 := elfPage(goKernel...)
	class32[4] = 1
	phentsize := elfPage(goKernel...)
	binary.LittleEndian.PutUint16(phentsize[54:], 32)
	tooMany := elfPage(goKernel...)
	binary.LittleEndian.PutUint16(tooMany[56:], 100) // past the page
	phoffFar := elfPage(goKernel...)
	binary.LittleEndian.PutUint64(phoffFar[32:], 1<<63)
	tests := []struct {
		name string
		page []byte
		want string
	}{
		{"short", make([]byte, 10), "ELF header"},
		{"bad magic", badMagic, "ELF header"},
		{"32-bit", class32, "ELF header"},
		{"program header size", phentsize, "unexpected size"},
		{"headers past the page", tooMany, "not in its first page"},
		{"headers far away", phoffFar, "not in its first page"},
		{"no loadable segment", elfPage(goKernel[0], goKernel[1]), "no loadable"},
		{"user address", elfPage(load(rx, 0x400000, 0x1000)), "outside the kernel window"},
		{"past the window", elfPage(load(rw, KernelBase+1<<30-0x1000, 0x2000)), "outside the kernel window"},
		{"huge", elfPage(load(rw, KernelBase, 1<<62)), "outside the kernel window"},
		{"overlap", elfPage(load(rx, KernelBase+0x200000, 0x2000), load(r, KernelBase+0x201000, 0x1000)), "overlap"},
		{"W+X segment", elfPage(load(7, KernelBase+0x200000, 0x1000)), "both writable and executable"},
		{"shared page W+X", elfPage(load(rx, KernelBase+0x200000, 0x1800), load(rw, KernelBase+0x201800, 0x1000)), "writable and executable"},
		{"too many", elfPage(load(r, KernelBase, 1), load(r, KernelBase+0x1000, 1), load(r, KernelBase+0x2000, 1)), "too many"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := make([]Segment, 2)
			n, err := ImageSegments(tc.page, out)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ImageSegments = %d, %v; want an error containing %q", n, err, tc.want)
			}
		})
	}
}

func TestPageFlags(t *testing.T) {
	defer func(old uint64) { nxBit = old }(nxBit)
	nxBit = 1 << 63
	segs := []Segment{
		{Start: KernelBase + 0x200000, End: KernelBase + 0x201800, Exec: true},
		{Start: KernelBase + 0x201800, End: KernelBase + 0x202100}, // shares a page with the code
		{Start: KernelBase + 0x203000, End: KernelBase + 0x204000, Write: true},
	}
	type result struct {
		Flags   uint64
		Present bool
	}
	for _, tc := range []struct {
		va   uint64
		want result
	}{
		{KernelBase + 0x1ff000, result{nxBit, false}},
		{KernelBase + 0x200000, result{0, true}},     // r-x
		{KernelBase + 0x201000, result{0, true}},     // code and rodata: r-x
		{KernelBase + 0x202000, result{nxBit, true}}, // r--
		{KernelBase + 0x203000, result{nxBit | 2, true}},
		{KernelBase + 0x204000, result{nxBit, false}},
	} {
		f, p := pageFlags(segs, tc.va)
		if diff := cmp.Diff(tc.want, result{f, p}); diff != "" {
			t.Errorf("pageFlags(%#x) (-want +got):\n%s", tc.va, diff)
		}
	}
}

// FuzzImageSegments feeds arbitrary first pages: ImageSegments must never
// panic, and what it accepts must be sorted, disjoint, inside the kernel
// window, and W^X page by page.
func FuzzImageSegments(f *testing.F) {
	f.Add(elfPage(goKernel...))
	f.Add(elfPage(phdr{elfPTLoad, rx, KernelBase, 0x1800}, phdr{elfPTLoad, r, KernelBase + 0x1800, 0x10}))
	f.Fuzz(func(t *testing.T, page []byte) {
		out := make([]Segment, MaxImageSegments)
		n, err := ImageSegments(page, out)
		if err != nil {
			return
		}
		for i, s := range out[:n] {
			if s.Start < KernelBase || s.End <= s.Start || s.End > KernelBase+kernelWindow {
				t.Fatalf("segment %d %+v outside the window", i, s)
			}
			if i > 0 && s.Start < out[i-1].End {
				t.Fatalf("segments %d and %d overlap: %+v", i-1, i, out[:n])
			}
		}
		saved := nxBit
		nxBit = 1 << 63
		defer func() { nxBit = saved }()
		for _, s := range out[:n] {
			for va := pageDown(s.Start); va < s.End; va += PageSize {
				if fl, _ := pageFlags(out[:n], va); fl&2 != 0 && fl&nxBit == 0 {
					t.Fatalf("page %#x writable and executable: %+v", va, out[:n])
				}
			}
		}
	})
}
