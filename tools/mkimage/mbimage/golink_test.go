package mbimage

import (
	"bytes"
	"debug/elf"
	"testing"

	"github.com/google/go-cmp/cmp"
	"valence.dev/tools/mkimage/internal/elftest"
)

// TestGoLinkedKernel runs Build on a Go binary linked like the kernel, to
// catch assumptions about the Go linker's output that synthetic ELFs hide.
func TestGoLinkedKernel(t *testing.T) {
	kernel := elftest.LinkGo(t)
	img, err := Build(kernel, DefaultEntry)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	f, err := elf.NewFile(bytes.NewReader(kernel))
	if err != nil {
		t.Fatal(err)
	}
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	// The stub module takes entry32's address from Go, so the assembly
	// body is entry32.abi0 and entry32 is a wrapper Build must not pick.
	var entry, wrapper uint64
	for _, s := range syms {
		switch s.Name {
		case DefaultEntry + ".abi0":
			entry = s.Value - KernelBase
		case DefaultEntry:
			wrapper = s.Value - KernelBase
		}
	}
	if entry == 0 || wrapper == 0 || entry == wrapper {
		t.Fatalf("Go linker no longer emits entry32 as wrapper %#x plus .abi0 body %#x; update this test", wrapper, entry)
	}
	type summary struct {
		LoadAddr, HeaderAddr, Entry uint32
		FirstBytes                  string
	}
	want := summary{LoadAddr: 0x1ff000, HeaderAddr: 0x1ff000, Entry: uint32(entry), FirstBytes: "\x7fELF"}
	got := summary{img.Header.LoadAddr, img.Header.HeaderAddr, img.Header.EntryAddr, string(img.File[PageSize : PageSize+4])}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("image of a Go-linked kernel (-want +got):\n%s", diff)
	}
	// The entry byte is the stub's HLT.
	if diff := cmp.Diff(byte(0xf4), img.File[img.Header.EntryAddr-img.Header.LoadAddr]); diff != "" {
		t.Errorf("byte at entry (-want +got):\n%s", diff)
	}
}
