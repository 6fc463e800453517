package mbimage

import (
	"bytes"
	"debug/elf"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"valence.dev/tools/mkimage/internal/elftest"
)

const (
	rx = elf.PF_R | elf.PF_X
	r  = elf.PF_R
	rw = elf.PF_R | elf.PF_W
)

// testKernel mirrors the shape of the real kernel: text, read-only data
// and data+bss segments starting at physical 0x200000.
func testKernel() elftest.Spec {
	return elftest.Spec{
		Segments: []elftest.Segment{
			{Vaddr: KernelBase + 0x200000, Flags: rx, Data: bytes.Repeat([]byte{0x90}, 0x1100)},
			{Vaddr: KernelBase + 0x202000, Flags: r, Data: []byte("rodata")},
			{Vaddr: KernelBase + 0x203000, Flags: rw, Data: []byte("data"), Memsz: 0x2345},
		},
		Syms: []elftest.Sym{
			{Name: DefaultEntry, Value: KernelBase + 0x201010, Size: 16, Type: elf.STT_FUNC, InText: true},
		},
	}
}

func TestBuild(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*elftest.Spec)
		want   Header
		// wantBytes maps file offsets to bytes expected there.
		wantBytes map[int]string
		wantLen   int
	}{
		{
			name:   "typical kernel",
			modify: func(*elftest.Spec) {},
			want: Header{
				Flags:      FlagPageAlign | FlagMemInfo | FlagAOutKludge,
				HeaderAddr: 0x1ff000, LoadAddr: 0x1ff000,
				LoadEndAddr: 0x1ff000 + 0x4004,
				BSSEndAddr:  0x206000, // 0x203000+0x2345 rounded up
				EntryAddr:   0x201010,
			},
			wantBytes: map[int]string{
				0x1000: "\x90\x90",
				0x2100: "\x00\x00", // gap after text is zero
				0x3000: "rodata\x00",
				0x4000: "data",
			},
			wantLen: 0x4004,
		},
		{
			name: "p_paddr is ignored and segment order does not matter",
			modify: func(s *elftest.Spec) {
				s.Segments[0].Paddr = 0xdead000
				s.Segments[0], s.Segments[2] = s.Segments[2], s.Segments[0]
			},
			want: Header{
				Flags:      FlagPageAlign | FlagMemInfo | FlagAOutKludge,
				HeaderAddr: 0x1ff000, LoadAddr: 0x1ff000, LoadEndAddr: 0x1ff000 + 0x4004,
				BSSEndAddr: 0x206000, EntryAddr: 0x201010,
			},
			wantBytes: map[int]string{0x1000: "\x90", 0x4000: "data"},
			wantLen:   0x4004,
		},
		{
			name: "bss tail of a non-final segment is stored as zeros",
			modify: func(s *elftest.Spec) {
				s.Segments[1].Memsz = 0x800
				s.Segments[1].Data = []byte("ro\xff")
			},
			want: Header{
				Flags:      FlagPageAlign | FlagMemInfo | FlagAOutKludge,
				HeaderAddr: 0x1ff000, LoadAddr: 0x1ff000, LoadEndAddr: 0x1ff000 + 0x4004,
				BSSEndAddr: 0x206000, EntryAddr: 0x201010,
			},
			wantBytes: map[int]string{0x3000: "ro\xff\x00", 0x37ff: "\x00"},
			wantLen:   0x4004,
		},
		{
			name: "empty and non-load segments are skipped; page-aligned end stays",
			modify: func(s *elftest.Spec) {
				s.Segments = append(s.Segments,
					elftest.Segment{Vaddr: 0x1234, Type: elf.PT_NOTE, Data: []byte("note")},
					elftest.Segment{Vaddr: KernelBase + 0x300000, Flags: rw, Type: elf.PT_LOAD})
				s.Segments[2].Memsz = 0x3000 // ends exactly on a page
			},
			want: Header{
				Flags:      FlagPageAlign | FlagMemInfo | FlagAOutKludge,
				HeaderAddr: 0x1ff000, LoadAddr: 0x1ff000, LoadEndAddr: 0x1ff000 + 0x4004,
				BSSEndAddr: 0x206000, EntryAddr: 0x201010,
			},
			wantLen: 0x4004,
		},
		{
			name: "assembly body .abi0 preferred over the ABI wrapper",
			modify: func(s *elftest.Spec) {
				s.Syms = append(s.Syms, elftest.Sym{Name: DefaultEntry + ".abi0",
					Value: KernelBase + 0x200100, Type: elf.STT_FUNC, InText: true})
			},
			want: Header{
				Flags:      FlagPageAlign | FlagMemInfo | FlagAOutKludge,
				HeaderAddr: 0x1ff000, LoadAddr: 0x1ff000, LoadEndAddr: 0x1ff000 + 0x4004,
				BSSEndAddr: 0x206000, EntryAddr: 0x200100,
			},
			wantLen: 0x4004,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := testKernel()
			tt.modify(&spec)
			img, err := Build(elftest.Build(spec), DefaultEntry)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if diff := cmp.Diff(tt.want, img.Header); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantLen, len(img.File)); diff != "" {
				t.Errorf("file length (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want.Marshal(), img.File[:HeaderSize]); diff != "" {
				t.Errorf("header bytes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(make([]byte, PageSize-HeaderSize), img.File[HeaderSize:PageSize]); diff != "" {
				t.Errorf("rest of the header page is not zero (-want +got):\n%s", diff)
			}
			for off, want := range tt.wantBytes {
				got := string(img.File[off:min(off+len(want), len(img.File))])
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("bytes at offset %#x (-want +got):\n%s", off, diff)
				}
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*elftest.Spec)
		entry  string
		want   string // substring of the error
	}{
		{"ELF32", func(s *elftest.Spec) { s.Class = elf.ELFCLASS32 }, "", "ELF"},
		{"arm64", func(s *elftest.Spec) { s.Machine = elf.EM_AARCH64 }, "", "want EM_X86_64"},
		{"shared object", func(s *elftest.Spec) { s.Type = elf.ET_DYN }, "", "want ET_EXEC"},
		{"no PT_LOAD", func(s *elftest.Spec) {
			for i := range s.Segments {
				s.Segments[i].Type = elf.PT_NOTE
			}
		}, "", "no non-empty PT_LOAD"},
		{"low half", func(s *elftest.Spec) { s.Segments[1].Vaddr = 0x202000 }, "", "outside the kernel window"},
		{"above window", func(s *elftest.Spec) { s.Segments[2].Vaddr = KernelLimit }, "", "outside the kernel window"},
		{"runs off window", func(s *elftest.Spec) {
			s.Segments[2].Vaddr = KernelLimit - 0x1000
		}, "", "outside the kernel window"},
		{"overlap", func(s *elftest.Spec) { s.Segments[1].Vaddr = KernelBase + 0x201000 }, "", "overlap"},
		{"bss overlaps next", func(s *elftest.Spec) { s.Segments[1].Memsz = 0x1001 }, "", "overlap"},
		{"filesz > memsz", func(s *elftest.Spec) { s.Segments[1].Memsz = 2 }, "", "filesz larger than memsz"},
		{"huge segment", func(s *elftest.Spec) { s.Segments[2].Memsz = MaxImage + 1 }, "", "larger than 512 MiB"},
		{"huge span", func(s *elftest.Spec) {
			s.Segments[2].Vaddr = KernelBase + 0x200000 + MaxImage
		}, "", "over the 512 MiB limit"},
		{"truncated segment", func(s *elftest.Spec) { s.Segments[2].Filesz = 1 << 20; s.Segments[2].Memsz = 1 << 21 }, "", "past the end"},
		{"below 1 MiB + 4 KiB", func(s *elftest.Spec) {
			s.Segments[0].Vaddr = KernelBase + 0x100000
			s.Syms[0].Value = KernelBase + 0x100010
		}, "", "above 1 MiB"},
		{"no symbol table", func(s *elftest.Spec) { s.NoSymtab = true }, "", "reading symbols"},
		{"entry missing", func(*elftest.Spec) {}, "nope", `"nope" not found`},
		{"entry in data", func(s *elftest.Spec) { s.Syms[0].Value = KernelBase + 0x203000 }, "", "non-executable"},
		{"entry in bss", func(s *elftest.Spec) { s.Syms[0].Value = KernelBase + 0x204000 }, "", "not in the file bytes"},
		{"entry in low half", func(s *elftest.Spec) { s.Syms[0].Value = 0x201010 }, "", "outside the kernel window"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := testKernel()
			tt.modify(&spec)
			entry := tt.entry
			if entry == "" {
				entry = DefaultEntry
			}
			_, err := Build(elftest.Build(spec), entry)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Build error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestBuildTruncatedFile(t *testing.T) {
	whole := elftest.Build(testKernel())
	for _, n := range []int{0, 3, 63, 64, 200, len(whole) / 2, len(whole) - 1} {
		if _, err := Build(whole[:n], DefaultEntry); err == nil {
			t.Errorf("Build accepted the kernel cut to %d of %d bytes", n, len(whole))
		}
	}
}
