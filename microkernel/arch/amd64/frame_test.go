package amd64_test

import (
	"encoding/binary"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"

	"valence.dev/microkernel/arch/amd64"
)

func TestFrameLayout(t *testing.T) {
	// The push order of the trap entry code: general registers (R15 first in
	// memory), vector, error code, then the CPU's five words.
	var f amd64.Frame
	tests := []struct {
		name string
		got  uintptr
		want uintptr
	}{
		{"R15", unsafe.Offsetof(f.R15), 0},
		{"R14", unsafe.Offsetof(f.R14), 8},
		{"R13", unsafe.Offsetof(f.R13), 16},
		{"R12", unsafe.Offsetof(f.R12), 24},
		{"R11", unsafe.Offsetof(f.R11), 32},
		{"R10", unsafe.Offsetof(f.R10), 40},
		{"R9", unsafe.Offsetof(f.R9), 48},
		{"R8", unsafe.Offsetof(f.R8), 56},
		{"RBP", unsafe.Offsetof(f.RBP), 64},
		{"RDI", unsafe.Offsetof(f.RDI), 72},
		{"RSI", unsafe.Offsetof(f.RSI), 80},
		{"RDX", unsafe.Offsetof(f.RDX), 88},
		{"RCX", unsafe.Offsetof(f.RCX), 96},
		{"RBX", unsafe.Offsetof(f.RBX), 104},
		{"RAX", unsafe.Offsetof(f.RAX), 112},
		{"Vector", unsafe.Offsetof(f.Vector), 120},
		{"ErrorCode", unsafe.Offsetof(f.ErrorCode), 128},
		{"RIP", unsafe.Offsetof(f.RIP), 136},
		{"CS", unsafe.Offsetof(f.CS), 144},
		{"RFLAGS", unsafe.Offsetof(f.RFLAGS), 152},
		{"RSP", unsafe.Offsetof(f.RSP), 160},
		{"SS", unsafe.Offsetof(f.SS), 168},
		{"sizeof Frame", unsafe.Sizeof(f), amd64.FrameSize},
		{"FrameSize", amd64.FrameSize, 176},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}

func TestFrameFromUser(t *testing.T) {
	tests := []struct {
		cs   uint64
		want bool
	}{
		{amd64.KernelCS, false},
		{amd64.UserCS, true},
		{amd64.UserDS, true},
		{0, false},
	}
	for _, tc := range tests {
		f := amd64.Frame{CS: tc.cs}
		if got := f.FromUser(); got != tc.want {
			t.Errorf("Frame{CS: %#x}.FromUser() = %v, want %v", tc.cs, got, tc.want)
		}
	}
}

func TestFXStateInitFX(t *testing.T) {
	if got, size := unsafe.Sizeof(amd64.FXState{}), uintptr(amd64.FXStateSize); got != size || size != 512 {
		t.Fatalf("sizeof FXState = %d, FXStateSize = %d, want 512", got, size)
	}
	for _, name := range []string{"zero", "dirty"} {
		var s amd64.FXState
		if name == "dirty" {
			for i := range s {
				s[i] = ^uint64(0)
			}
		}
		s.InitFX()
		b := wordBytes(s[:])
		// SDM vol. 1 table 10-2: FCW at bytes 0-1, FSW 2-3, abridged FTW 4
		// (0 = all registers empty), MXCSR 24-27, MXCSR_MASK 28-31 (ignored
		// by FXRSTOR, so not checked), everything else zero after FNINIT.
		want := make([]byte, amd64.FXStateSize)
		binary.LittleEndian.PutUint16(want[0:], 0x037F)
		binary.LittleEndian.PutUint32(want[24:], 0x1F80)
		copy(want[28:32], b[28:32])
		if diff := cmp.Diff(want, b); diff != "" {
			t.Errorf("%s: InitFX bytes (-want +got):\n%s", name, diff)
		}
	}
}
