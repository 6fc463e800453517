package elftest

import (
	"bytes"
	"debug/elf"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBuildParses checks that debug/elf reads back what Build wrote, so
// that mkimage's tests exercise mkimage rather than this fixture.
func TestBuildParses(t *testing.T) {
	type prog struct {
		Type                       elf.ProgType
		Flags                      elf.ProgFlag
		Vaddr, Paddr, Filesz, Mems uint64
		Data                       []byte
	}
	type sym struct {
		Name        string
		Value, Size uint64
		Type        elf.SymType
		Section     string
	}
	tests := []struct {
		name      string
		spec      Spec
		wantProgs []prog
		wantSyms  []sym
	}{
		{
			name: "text data bss",
			spec: Spec{
				Segments: []Segment{
					{Vaddr: 0x1000, Paddr: 7, Flags: elf.PF_R | elf.PF_X, Data: []byte{0x90, 0xc3}},
					{Vaddr: 0x2000, Flags: elf.PF_R | elf.PF_W, Data: []byte("data"), Memsz: 0x100},
				},
				Syms: []Sym{
					{Name: "f", Value: 0x1000, Size: 2, Type: elf.STT_FUNC, InText: true},
					{Name: "abs", Value: 5, Type: elf.STT_NOTYPE},
				},
			},
			wantProgs: []prog{
				{elf.PT_LOAD, elf.PF_R | elf.PF_X, 0x1000, 7, 2, 2, []byte{0x90, 0xc3}},
				{elf.PT_LOAD, elf.PF_R | elf.PF_W, 0x2000, 0, 4, 0x100, []byte("data")},
			},
			wantSyms: []sym{
				{"f", 0x1000, 2, elf.STT_FUNC, ".text"},
				{"abs", 5, 0, elf.STT_NOTYPE, ""},
			},
		},
		{name: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := elf.NewFile(bytes.NewReader(Build(tt.spec)))
			if err != nil {
				t.Fatalf("debug/elf rejected the fixture: %v", err)
			}
			var progs []prog
			for _, p := range f.Progs {
				data := make([]byte, p.Filesz)
				if _, err := p.ReadAt(data, 0); err != nil {
					t.Fatalf("reading segment: %v", err)
				}
				progs = append(progs, prog{p.Type, p.Flags, p.Vaddr, p.Paddr, p.Filesz, p.Memsz, data})
			}
			if diff := cmp.Diff(tt.wantProgs, progs); diff != "" {
				t.Errorf("program headers (-want +got):\n%s", diff)
			}
			elfSyms, err := f.Symbols()
			if err != nil && len(tt.wantSyms) > 0 {
				t.Fatalf("Symbols: %v", err)
			}
			var syms []sym
			for _, s := range elfSyms {
				sec := ""
				if int(s.Section) < len(f.Sections) && s.Section != elf.SHN_UNDEF {
					sec = f.Sections[s.Section].Name
				}
				syms = append(syms, sym{s.Name, s.Value, s.Size, elf.ST_TYPE(s.Info), sec})
			}
			if diff := cmp.Diff(tt.wantSyms, syms); diff != "" {
				t.Errorf("symbols (-want +got):\n%s", diff)
			}
		})
	}
}
