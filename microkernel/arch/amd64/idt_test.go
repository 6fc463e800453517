package amd64_test

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/microkernel/arch/amd64"
)

// gate is a 64-bit IDT gate descriptor decoded per SDM vol. 3A §6.14.1
// (figure 6-8).
type gate struct {
	Offset    uint64
	Selector  uint16
	IST       uint8
	Byte4High uint8 // bits 3-7 of byte 4, must be zero
	Type      uint8
	Bit12     bool // must be zero
	DPL       uint8
	P         bool
	Reserved  uint32 // bytes 12-15
}

func decodeGate(b []byte) gate {
	return gate{
		Offset: uint64(binary.LittleEndian.Uint16(b[0:2])) |
			uint64(binary.LittleEndian.Uint16(b[6:8]))<<16 |
			uint64(binary.LittleEndian.Uint32(b[8:12]))<<32,
		Selector:  binary.LittleEndian.Uint16(b[2:4]),
		IST:       b[4] & 7,
		Byte4High: b[4] >> 3,
		Type:      b[5] & 0xF,
		Bit12:     b[5]&(1<<4) != 0,
		DPL:       b[5] >> 5 & 3,
		P:         b[5]&(1<<7) != 0,
		Reserved:  binary.LittleEndian.Uint32(b[12:16]),
	}
}

func TestIDTSetGate(t *testing.T) {
	tests := []struct {
		v       int
		handler uint64
		ist     int
		dpl     int
	}{
		{0, 0xFFFF_FFFF_8010_2030, 0, 0},
		{amd64.VecBreakpoint, 0xFFFF_FFFF_8010_2040, 0, 3},
		{amd64.VecDoubleFault, 0xFFFF_FFFF_8010_20B0, 1, 0},
		{amd64.VecNMI, 0x0000_0000_0040_1000, 2, 0},
		{amd64.VecMachineCheck, 0x0123_4567_89AB_CDEF, 7, 0},
		{amd64.VecPageFault, 0xFEDC_BA98_7654_3210, 3, 0},
		{amd64.FirstIRQVector, 0x0000_0000_FFFF_0000, 0, 0},
		{0x80, 0xFFFF_FFFF_FFFF_FFFF, 0, 3},
		{amd64.VecSpurious, 0x0000_FFFF_0000_FFFF, 5, 0},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("vector %d", tc.v), func(t *testing.T) {
			var idt amd64.IDT
			for i := range idt {
				idt[i] = 0x5A5A_5A5A_5A5A_5A5A
			}
			before := wordBytes(idt[:])
			idt.SetGate(tc.v, uintptr(tc.handler), tc.ist, tc.dpl)
			after := wordBytes(idt[:])
			got := decodeGate(after[16*tc.v : 16*tc.v+16])
			want := gate{
				Offset:   tc.handler,
				Selector: amd64.KernelCS,
				IST:      uint8(tc.ist),
				Type:     0xE, // 64-bit interrupt gate
				DPL:      uint8(tc.dpl),
				P:        true,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("gate (-want +got):\n%s", diff)
			}
			// Every other gate is untouched.
			copy(after[16*tc.v:16*tc.v+16], before[16*tc.v:16*tc.v+16])
			if !cmp.Equal(before, after) {
				t.Errorf("SetGate(%d) changed bytes outside its gate", tc.v)
			}
		})
	}
}

func TestIDTSetGateOutOfRange(t *testing.T) {
	for _, v := range []int{-1, -256, amd64.NumVectors, amd64.NumVectors + 1, amd64.SyscallVector, 1 << 30} {
		var idt amd64.IDT
		for i := range idt {
			idt[i] = uint64(i) * 0x9E37_79B9_7F4A_7C15
		}
		want := idt
		idt.SetGate(v, 0xFFFF_FFFF_8000_1234, 1, 3)
		if idt != want {
			t.Errorf("SetGate(%d) changed the table", v)
		}
	}
}

func TestExceptionVectors(t *testing.T) {
	// SDM vol. 3A table 6-1.
	tests := []struct {
		name      string
		got, want int
	}{
		{"#DE", amd64.VecDivide, 0}, {"#DB", amd64.VecDebug, 1}, {"NMI", amd64.VecNMI, 2},
		{"#BP", amd64.VecBreakpoint, 3}, {"#OF", amd64.VecOverflow, 4}, {"#BR", amd64.VecBound, 5},
		{"#UD", amd64.VecInvalidOp, 6}, {"#NM", amd64.VecNoFPU, 7}, {"#DF", amd64.VecDoubleFault, 8},
		{"#TS", amd64.VecInvalidTSS, 10}, {"#NP", amd64.VecSegment, 11}, {"#SS", amd64.VecStack, 12},
		{"#GP", amd64.VecGeneralProt, 13}, {"#PF", amd64.VecPageFault, 14}, {"#MF", amd64.VecFPU, 16},
		{"#AC", amd64.VecAlignment, 17}, {"#MC", amd64.VecMachineCheck, 18}, {"#XM", amd64.VecSIMD, 19},
		{"#VE", amd64.VecVirtualize, 20}, {"#CP", amd64.VecControlProt, 21},
		{"first IRQ", amd64.FirstIRQVector, 32},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s vector = %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}

func TestHasErrorCode(t *testing.T) {
	// SDM vol. 3A table 6-1 ("Error Code" column), plus #HV (28, no), #VC
	// (29, yes) and #SX (30, yes).
	want := [32]bool{
		8: true, 10: true, 11: true, 12: true, 13: true, 14: true, 17: true, 21: true, 29: true, 30: true,
	}
	for v := range want {
		if got := amd64.HasErrorCode(v); got != want[v] {
			t.Errorf("HasErrorCode(%d) [%s] = %v, want %v", v, amd64.ExceptionName(v), got, want[v])
		}
	}
	for _, v := range []int{-1, 32, 33, 0x80, 255, amd64.SyscallVector} {
		if amd64.HasErrorCode(v) {
			t.Errorf("HasErrorCode(%d) = true, want false", v)
		}
	}
}

func TestExceptionName(t *testing.T) {
	for v := -2; v <= amd64.SyscallVector+1; v++ {
		if amd64.ExceptionName(v) == "" {
			t.Errorf("ExceptionName(%d) is empty", v)
		}
	}
	mnemonics := []struct {
		v    int
		want string
	}{
		{amd64.VecDivide, "#DE"}, {amd64.VecDebug, "#DB"}, {amd64.VecNMI, "NMI"},
		{amd64.VecBreakpoint, "#BP"}, {amd64.VecOverflow, "#OF"}, {amd64.VecBound, "#BR"},
		{amd64.VecInvalidOp, "#UD"}, {amd64.VecNoFPU, "#NM"}, {amd64.VecDoubleFault, "#DF"},
		{amd64.VecInvalidTSS, "#TS"}, {amd64.VecSegment, "#NP"}, {amd64.VecStack, "#SS"},
		{amd64.VecGeneralProt, "#GP"}, {amd64.VecPageFault, "#PF"}, {amd64.VecFPU, "#MF"},
		{amd64.VecAlignment, "#AC"}, {amd64.VecMachineCheck, "#MC"}, {amd64.VecSIMD, "#XM"},
		{amd64.VecVirtualize, "#VE"}, {amd64.VecControlProt, "#CP"},
	}
	for _, tc := range mnemonics {
		if got := amd64.ExceptionName(tc.v); !strings.Contains(got, tc.want) {
			t.Errorf("ExceptionName(%d) = %q, want it to contain %q", tc.v, got, tc.want)
		}
	}
}
