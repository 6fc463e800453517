package qemu

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRealQEMU boots a tiny multiboot kernel, assembled below, in the real
// QEMU with the command line from Args. It checks what the fake QEMU
// cannot: that QEMU accepts every option, that the kernel command line and
// the two -initrd modules reach the guest as multiboot strings, that the
// console works both ways, and that isa-debug-exit sets the exit status.
// Like every test that boots QEMU, it skips when QEMU is missing, except
// under CI.
func TestRealQEMU(t *testing.T) {
	if testing.Short() {
		t.Skip("boots QEMU; skipped with -short")
	}
	dir := t.TempDir()
	t.Setenv(LogDirEnv, filepath.Join(dir, "logs"))
	p := Paths{
		Kernel: filepath.Join(dir, "tiny.mb"),
		Initfs: filepath.Join(dir, "initfs.tar"),
		Syms:   filepath.Join(dir, "kernel.sym"),
	}
	write(t, p.Kernel, string(tinyKernel()))
	write(t, p.Initfs, "initfs contents")
	write(t, p.Syms, "symbol contents")

	m := Boot(t, Options{Cmdline: "selftest quiet", Paths: &p, MemMiB: 64, Timeout: 3 * time.Minute})
	m.Expect(`ready\n`, 2*time.Minute)
	t.Logf("the tiny kernel was ready %v after QEMU started", m.Elapsed().Round(time.Millisecond))
	// The guest echoes what it reads until it reads a "q".
	m.SendLine("echo this line, which is longer than the UART's FIFO")
	m.Expect(`echo this line, which is longer than the UART's FIFO\r`, time.Minute)
	m.Send("q")
	// isa-debug-exit turns the value 1 written to port 0xf4 into (1<<1)|1.
	if code := m.ExpectExit(time.Minute); code != 3 {
		t.Errorf("ExpectExit() = %d, want 3", code)
	}

	want := strings.Join([]string{
		p.Kernel + " selftest quiet",
		p.Initfs + " initfs",
		p.Syms + " ksym",
		"ready",
		"",
	}, "\n")
	if out := m.Output(); !strings.HasPrefix(out, want) {
		t.Errorf("the guest printed\n%q\nwant it to start with\n%q", out, want)
	}
}

// tinyKernel returns a flat multiboot kernel, loaded at 1 MiB through the
// header's address fields, that prints its command line and the strings of
// its modules, one a line, then "ready", then echoes the serial console
// until it reads a "q", and then writes 1 to the isa-debug-exit port.
func tinyKernel() []byte {
	const (
		base  = 0x100000
		magic = 0x1BADB002
		flags = 1 << 16 // the load addresses in the header are valid
		com1  = 0x3f8
	)
	var a asm
	sum := uint32(magic + flags)
	checksum := -sum
	for _, v := range []uint32{magic, flags, checksum, base, base, 0, 0} {
		a.u32(v)
	}
	a.abs32("entry") // entry_addr

	a.label("entry")
	a.emit(0xbc, 0x00, 0x00, 0x09, 0x00) // mov esp, 0x90000: a stack in free low memory
	a.emit(0x89, 0xdd)                   // mov ebp, ebx: the multiboot information
	a.emit(0x66, 0xba, 0xf8, 0x03)       // mov dx, 0x3f8
	a.emit(0x8b, 0x75, 0x10)             // mov esi, [ebp+16]: cmdline
	a.call("putline")                    //
	a.emit(0x8b, 0x4d, 0x14)             // mov ecx, [ebp+20]: mods_count
	a.emit(0x8b, 0x7d, 0x18)             // mov edi, [ebp+24]: mods_addr
	a.label("mods")                      //
	a.emit(0x85, 0xc9)                   // test ecx, ecx
	a.jump(0x74, "greet")                // jz greet
	a.emit(0x8b, 0x77, 0x08)             // mov esi, [edi+8]: the module's string
	a.call("putline")                    //
	a.emit(0x83, 0xc7, 0x10)             // add edi, 16
	a.emit(0x49)                         // dec ecx
	a.jump(0xeb, "mods")                 // jmp mods
	a.label("greet")                     //
	a.emit(0xbe)                         // mov esi, ready
	a.abs32("ready")                     //
	a.call("putline")                    //
	a.label("read")                      //
	a.emit(0x66, 0xba, 0xfd, 0x03)       // mov dx, 0x3fd: line status
	a.label("poll")                      //
	a.emit(0xec)                         // in al, dx
	a.emit(0xa8, 0x01)                   // test al, 1: data ready
	a.jump(0x74, "poll")                 // jz poll
	a.emit(0x66, 0xba, 0xf8, 0x03)       // mov dx, 0x3f8
	a.emit(0xec)                         // in al, dx
	a.emit(0x3c, 'q')                    // cmp al, 'q'
	a.jump(0x74, "quit")                 // je quit
	a.emit(0xee)                         // out dx, al
	a.jump(0xeb, "read")                 // jmp read
	a.label("quit")                      //
	a.emit(0xb0, 0x01)                   // mov al, 1
	a.emit(0xe6, 0xf4)                   // out 0xf4, al
	a.label("halt")                      //
	a.emit(0xfa, 0xf4)                   // cli; hlt
	a.jump(0xeb, "halt")                 // jmp halt
	a.label("putline")                   // print the string at esi and "\n"
	a.emit(0xac)                         // lodsb
	a.emit(0x84, 0xc0)                   // test al, al
	a.jump(0x74, "newline")              // jz newline
	a.emit(0xee)                         // out dx, al
	a.jump(0xeb, "putline")              // jmp putline
	a.label("newline")                   //
	a.emit(0xb0, '\n', 0xee, 0xc3)       // mov al, 10; out dx, al; ret
	a.label("ready")                     //
	a.emit([]byte("ready\x00")...)       //
	return a.link(base)
}

// asm is just enough of an x86 assembler for tinyKernel: bytes, labels,
// short jumps, near calls and absolute addresses.
type asm struct {
	code   []byte
	labels map[string]int
	fixups []asmFixup
}

type asmFixup struct {
	at    int    // offset of the field to fill in
	size  int    // 1 or 4 bytes
	rel   bool   // relative to the end of the field, else absolute
	label string // the target
}

func (a *asm) emit(b ...byte) { a.code = append(a.code, b...) }
func (a *asm) u32(v uint32)   { a.code = binary.LittleEndian.AppendUint32(a.code, v) }

func (a *asm) label(name string) {
	if a.labels == nil {
		a.labels = make(map[string]int)
	}
	a.labels[name] = len(a.code)
}

func (a *asm) field(label string, size int, rel bool) {
	a.fixups = append(a.fixups, asmFixup{at: len(a.code), size: size, rel: rel, label: label})
	a.code = append(a.code, make([]byte, size)...)
}

func (a *asm) jump(op byte, label string) { a.emit(op); a.field(label, 1, true) }
func (a *asm) call(label string)          { a.emit(0xe8); a.field(label, 4, true) }
func (a *asm) abs32(label string)         { a.field(label, 4, false) }

// link resolves the fixups for code loaded at base.
func (a *asm) link(base uint32) []byte {
	for _, f := range a.fixups {
		target, ok := a.labels[f.label]
		if !ok {
			panic("asm: undefined label " + f.label)
		}
		switch {
		case f.size == 1:
			d := target - (f.at + 1)
			if d < -128 || d > 127 {
				panic(fmt.Sprintf("asm: %s is out of reach of a short jump", f.label))
			}
			a.code[f.at] = byte(int8(d))
		case f.rel:
			binary.LittleEndian.PutUint32(a.code[f.at:], uint32(int32(target-(f.at+4))))
		default:
			binary.LittleEndian.PutUint32(a.code[f.at:], base+uint32(target))
		}
	}
	return a.code
}

// TestTinyKernelAssembles guards the assembler against silent mistakes
// even where QEMU is missing.
func TestTinyKernelAssembles(t *testing.T) {
	k := tinyKernel()
	var sum uint32
	for i := range 3 {
		sum += binary.LittleEndian.Uint32(k[4*i:])
	}
	if sum != 0 {
		t.Errorf("multiboot header checksum: magic+flags+checksum = %#x, want 0", sum)
	}
	if entry := binary.LittleEndian.Uint32(k[28:]); entry != 0x100000+32 {
		t.Errorf("entry = %#x, want %#x", entry, 0x100000+32)
	}
	if !strings.HasSuffix(string(k), "ready\x00") {
		t.Errorf("kernel does not end with its message: % x", k[len(k)-8:])
	}
}
