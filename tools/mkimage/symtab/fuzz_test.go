package symtab

import (
	"debug/elf"
	"testing"

	"valence.dev/microkernel/ksym"
	"valence.dev/tools/mkimage/internal/elftest"
)

// FuzzSymbols feeds mutated ELF files to Symbols: it must not panic, and
// anything it returns must be encodable by ksym.
func FuzzSymbols(f *testing.F) {
	f.Add(kernelWith(fn("a", 0, 0x10), fn("b", 0x10, 0), fn("c", 0x10, 4),
		elftest.Sym{Name: "n", Value: textAt + 0x80, Type: elf.STT_NOTYPE, InText: true}))
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, kernel []byte) {
		syms, err := Symbols(kernel)
		if err != nil {
			return
		}
		if _, err := ksym.Encode(syms); err != nil {
			t.Fatalf("Symbols returned symbols ksym rejects: %v", err)
		}
	})
}
