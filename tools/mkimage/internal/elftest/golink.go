package elftest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// KernelLdflags are the linker flags the real kernel is built with: text
// at 0xffffffff80201000, first segment at 0xffffffff80200000.
const KernelLdflags = "-T=-0x7fdff000"

// goKernel is a stand-in for the kernel: a module that is, by name, the
// microkernel, with an assembly entry32 in arch/amd64 so the entry symbol
// has the real kernel's name.
var goKernel = map[string]string{
	"go.mod": "module valence.dev/microkernel\n\ngo 1.26\n",
	"main.go": `package main

import "valence.dev/microkernel/arch/amd64"

func main() { println(amd64.Entry != nil) }
`,
	"arch/amd64/entry.go": `package amd64

func entry32()

// Entry keeps entry32 from being dead-code eliminated.
var Entry = entry32
`,
	"arch/amd64/entry_amd64.s": `#include "textflag.h"

TEXT ·entry32(SB),NOSPLIT,$0
	BYTE $0xf4
	RET
`,
}

// LinkGo links a small Go program exactly as the kernel is linked and
// returns the ELF bytes. It skips the test in -short mode, since it runs
// the go command.
func LinkGo(t testing.TB) []byte {
	t.Helper()
	if testing.Short() {
		t.Skip("links a Go program")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	dir := t.TempDir()
	for name, text := range goKernel {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "kernel.elf")
	cmd := exec.Command(goTool, "build", "-ldflags="+KernelLdflags, "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-mod=mod")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
