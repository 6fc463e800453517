package symtab

import (
	"bytes"
	"debug/elf"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"valence.dev/microkernel/ksym"
	"valence.dev/tools/mkimage/internal/elftest"
)

const textAt = 0xffffffff80201000

// kernelWith returns an ELF whose .text is 0x100 bytes at textAt, holding
// syms, plus a data symbol that must never show up.
func kernelWith(syms ...elftest.Sym) []byte {
	return elftest.Build(elftest.Spec{
		Segments: []elftest.Segment{
			{Vaddr: textAt, Flags: elf.PF_R | elf.PF_X, Data: make([]byte, 0x100)},
			{Vaddr: textAt + 0x1000, Flags: elf.PF_R | elf.PF_W, Data: make([]byte, 0x10)},
		},
		Syms: append(syms, elftest.Sym{Name: "data", Value: textAt + 0x1000, Size: 8, Type: elf.STT_OBJECT}),
	})
}

func fn(name string, off, size uint64) elftest.Sym {
	return elftest.Sym{Name: name, Value: textAt + off, Size: size, Type: elf.STT_FUNC, InText: true}
}

func TestSymbols(t *testing.T) {
	tests := []struct {
		name string
		syms []elftest.Sym
		want []ksym.Symbol
	}{
		{name: "none", want: []ksym.Symbol{}},
		{
			name: "sized functions kept as-is, sorted",
			syms: []elftest.Sym{fn("b", 0x20, 0x10), fn("a", 0, 0x10)},
			want: []ksym.Symbol{{Addr: textAt, Size: 0x10, Name: "a"}, {Addr: textAt + 0x20, Size: 0x10, Name: "b"}},
		},
		{
			name: "zero sizes run to the next symbol or end of text",
			syms: []elftest.Sym{fn("a", 0, 0), fn("b", 0x30, 0)},
			want: []ksym.Symbol{{Addr: textAt, Size: 0x30, Name: "a"}, {Addr: textAt + 0x30, Size: 0xd0, Name: "b"}},
		},
		{
			name: "label at the end of text is dropped, like runtime.etext",
			syms: []elftest.Sym{fn("a", 0, 0x100), fn("etext", 0x100, 0)},
			want: []ksym.Symbol{{Addr: textAt, Size: 0x100, Name: "a"}},
		},
		{
			name: "sized symbol beats a label at the same address, like runtime.text",
			syms: []elftest.Sym{fn("runtime.text", 0, 0), fn("first", 0, 8)},
			want: []ksym.Symbol{{Addr: textAt, Size: 8, Name: "first"}},
		},
		{
			name: "aliases: STT_FUNC then smallest name wins",
			syms: []elftest.Sym{
				{Name: "label", Value: textAt, Size: 8, Type: elf.STT_NOTYPE, InText: true},
				fn("zeta", 0, 8), fn("alpha", 0, 8),
			},
			want: []ksym.Symbol{{Addr: textAt, Size: 8, Name: "alpha"}},
		},
		{
			name: "overlap clipped at the next symbol and at end of text",
			syms: []elftest.Sym{fn("a", 0, 0x50), fn("b", 0x40, 0x1000)},
			want: []ksym.Symbol{{Addr: textAt, Size: 0x40, Name: "a"}, {Addr: textAt + 0x40, Size: 0xc0, Name: "b"}},
		},
		{
			name: "NOTYPE text labels count; absolute, data and unnamed symbols do not",
			syms: []elftest.Sym{
				{Name: "asm", Value: textAt + 0x10, Size: 4, Type: elf.STT_NOTYPE, InText: true},
				{Name: "abs", Value: textAt + 0x20, Size: 4, Type: elf.STT_FUNC},
				{Name: "", Value: textAt + 0x30, Size: 4, Type: elf.STT_FUNC, InText: true},
				{Name: "sect", Value: textAt + 0x40, Size: 4, Type: elf.STT_SECTION, InText: true},
				{Name: "beyond", Value: textAt + 0x200, Size: 4, Type: elf.STT_FUNC, InText: true},
			},
			want: []ksym.Symbol{{Addr: textAt + 0x10, Size: 4, Name: "asm"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Symbols(kernelWith(tt.syms...))
			if err != nil {
				t.Fatalf("Symbols: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("symbols (-want +got):\n%s", diff)
			}
			if _, err := ksym.Encode(got); err != nil {
				t.Errorf("ksym.Encode rejected Symbols output: %v", err)
			}
		})
	}
}

func TestSymbolsErrors(t *testing.T) {
	tests := []struct {
		name   string
		kernel []byte
		want   string
	}{
		{"not ELF", []byte("hello"), "reading kernel ELF"},
		{"no symtab", elftest.Build(elftest.Spec{
			Segments: []elftest.Segment{{Vaddr: textAt, Flags: elf.PF_X, Data: []byte{1}}},
			NoSymtab: true,
		}), "reading symbol table"},
		{"name too long", kernelWith(fn(strings.Repeat("n", ksym.MaxNameLen+1), 0, 4)), "over ksym's limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Symbols(tt.kernel)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Symbols error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestGoLinkedKernel checks the table built from a real Go binary: every
// function the Go toolchain reports resolves to itself.
func TestGoLinkedKernel(t *testing.T) {
	kernel := elftest.LinkGo(t)
	b, n, err := Table(kernel)
	if err != nil {
		t.Fatalf("Table: %v", err)
	}
	tab, err := ksym.Open(b)
	if err != nil {
		t.Fatalf("ksym.Open: %v", err)
	}
	if tab.Len() != n || n < 100 {
		t.Fatalf("table has %d entries, Table reported %d; want the same and at least 100", tab.Len(), n)
	}
	f, err := elf.NewFile(bytes.NewReader(kernel))
	if err != nil {
		t.Fatal(err)
	}
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC || s.Size == 0 {
			continue
		}
		type hit struct {
			Name string
			Off  uint64
			OK   bool
		}
		name, off, ok := tab.Lookup(s.Value + s.Size - 1)
		if diff := cmp.Diff(hit{s.Name, s.Size - 1, true}, hit{string(name), off, ok}); diff != "" {
			t.Errorf("Lookup(last byte of %s) (-want +got):\n%s", s.Name, diff)
		}
		checked++
	}
	if checked < 100 {
		t.Errorf("only %d sized functions checked", checked)
	}
}
