package mbimage

import (
	"bytes"
	"debug/elf"
	"testing"

	"valence.dev/tools/mkimage/internal/elftest"
)

// FuzzBuild feeds mutated ELF files to Build. Whatever the input, Build
// must return an error or an image that passes ParseHeader and keeps the
// invariants documented in doc.go; it must never panic.
func FuzzBuild(f *testing.F) {
	f.Add(elftest.Build(testKernel()))
	f.Add(elftest.Build(elftest.Spec{
		Segments: []elftest.Segment{{Vaddr: KernelBase + 0x101000, Flags: rx, Data: []byte{0xf4}}},
		Syms:     []elftest.Sym{{Name: DefaultEntry, Value: KernelBase + 0x101000, Type: elf.STT_FUNC, InText: true}},
	}))
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, kernel []byte) {
		img, err := Build(kernel, DefaultEntry)
		if err != nil {
			return
		}
		h, off, err := ParseHeader(img.File)
		if err != nil || off != 0 || h != img.Header {
			t.Fatalf("Build output does not parse back: %+v at %d, %v", h, off, err)
		}
		if h.LoadAddr < MinLoadAddr || uint64(h.BSSEndAddr)-uint64(h.LoadAddr) > MaxImage {
			t.Fatalf("Build accepted an out-of-range image: %+v", h)
		}
		for _, s := range img.Segments {
			at := PageSize + s.Phys - img.Segments[0].Phys
			if !bytes.Equal(img.File[at:at+s.Filesz], s.data) {
				t.Fatalf("segment at %#x not copied to offset %#x", s.Phys, at)
			}
		}
	})
}

// FuzzParseHeader checks that ParseHeader never panics and that whatever
// it accepts is self-consistent.
func FuzzParseHeader(f *testing.F) {
	h := Header{
		Flags:      FlagPageAlign | FlagMemInfo | FlagAOutKludge,
		HeaderAddr: 0x1ff000, LoadAddr: 0x1ff000, LoadEndAddr: 0x1ff040, EntryAddr: 0x1ff020,
	}
	f.Add(append(h.Marshal(), make([]byte, 32)...))
	f.Add(h.Marshal()[:12])
	f.Fuzz(func(t *testing.T, file []byte) {
		h, off, err := ParseHeader(file)
		if err != nil {
			return
		}
		if off%4 != 0 || off+HeaderSize > SearchLimit || off+HeaderSize > len(file) {
			t.Fatalf("accepted header at bad offset %d of %d", off, len(file))
		}
		if h.EntryAddr < h.LoadAddr {
			t.Fatalf("accepted entry %#x below load %#x", h.EntryAddr, h.LoadAddr)
		}
	})
}
