package mbimage

import (
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"valence.dev/tools/mkimage/internal/elftest"
)

// bootStub is 32-bit code that checks the multiboot magic in EAX, prints
// two bytes from the data segment to the Bochs debug console (port 0xe9)
// and exits QEMU through isa-debug-exit (port 0xf4). msgAt is the physical
// address of the two bytes. It proves the loader placed both the entry
// point and a later segment where Build said it would.
func bootStub(msgAt uint32) []byte {
	a := binary.LittleEndian.AppendUint32
	var c []byte
	c = append(c, 0x3d, 0x02, 0xb0, 0xad, 0x2b) // cmp eax, 0x2badb002
	c = append(c, 0x75, 0x12)                   // jne fail
	c = append(c, 0x66, 0xba, 0xe9, 0x00)       // mov dx, 0xe9
	c = a(append(c, 0xa0), msgAt)               // mov al, [msgAt]
	c = append(c, 0xee)                         // out dx, al
	c = a(append(c, 0xa0), msgAt+1)             // mov al, [msgAt+1]
	c = append(c, 0xee)                         // out dx, al
	c = append(c, 0xeb, 0x07)                   // jmp exit
	c = append(c, 0x66, 0xba, 0xe9, 0x00)       // fail: mov dx, 0xe9
	c = append(c, 0xb0, 'M', 0xee)              // mov al, 'M'; out dx, al
	c = append(c, 0x66, 0xba, 0xf4, 0x00)       // exit: mov dx, 0xf4
	c = append(c, 0xb0, 0x10, 0xee)             // mov al, 0x10; out dx, al
	c = append(c, 0xf4, 0xeb, 0xfd)             // hlt; jmp hlt
	return c
}

// TestBootInQEMU boots a synthetic kernel with QEMU's multiboot loader.
func TestBootInQEMU(t *testing.T) {
	if testing.Short() {
		t.Skip("boots QEMU")
	}
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Skip("qemu-system-x86_64 not installed")
	}
	const entryOff = 0x40 // entry is not at the start of text, on purpose
	text := make([]byte, entryOff, 0x100)
	text = append(text, bootStub(0x203800)...)
	data := append(make([]byte, 0x800), "OK"...)
	kernel := elftest.Build(elftest.Spec{
		Segments: []elftest.Segment{
			{Vaddr: KernelBase + 0x200000, Flags: rx, Data: text},
			{Vaddr: KernelBase + 0x203000, Flags: rw, Data: data, Memsz: 0x10000},
		},
		Syms: []elftest.Sym{{Name: "entry32", Value: KernelBase + 0x200000 + entryOff, Type: elf.STT_FUNC, InText: true}},
	})
	img, err := Build(kernel, "entry32")
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	dir := t.TempDir()
	mb, con := filepath.Join(dir, "valence.mb"), filepath.Join(dir, "debugcon")
	if err := os.WriteFile(mb, img.File, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemu, "-nodefaults", "-display", "none", "-no-reboot",
		"-m", "64", "-kernel", mb, "-debugcon", "file:"+con,
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04")
	out, err := cmd.CombinedOutput()
	// isa-debug-exit turns the value v written to the port into exit
	// status (v<<1)|1, so 0x10 becomes 33.
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 33 {
		t.Fatalf("qemu: %v (want exit status 33)\n%s", err, out)
	}
	got, err := os.ReadFile(con)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("OK", string(got)); diff != "" {
		t.Errorf("debug console output (-want +got; M means bad multiboot magic):\n%s", diff)
	}
}
