package amd64_test

import (
	"encoding/binary"
	"fmt"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"

	"valence.dev/microkernel/arch/amd64"
)

// wordBytes serializes words the way the CPU sees them in memory (x86 is
// little-endian), so the tests can check byte offsets from the SDM instead of
// the package's word arithmetic.
func wordBytes(ws []uint64) []byte {
	b := make([]byte, 8*len(ws))
	for i, w := range ws {
		binary.LittleEndian.PutUint64(b[8*i:], w)
	}
	return b
}

// fillPattern returns n bytes of a recognizable, position-dependent pattern.
func fillPattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(0xA5 ^ i*7)
	}
	return b
}

// bytesToWords is the inverse of wordBytes.
func bytesToWords(b []byte, ws []uint64) {
	for i := range ws {
		ws[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
}

// segDesc is a code or data segment descriptor decoded per SDM vol. 3A
// §3.4.5 (figure 3-8). The accessed bit is left out: the CPU may set it.
type segDesc struct {
	Base       uint32
	Code       bool // type bit 3
	ConfOrExp  bool // type bit 2: conforming (code) / expand-down (data)
	ReadWrite  bool // type bit 1: readable (code) / writable (data)
	S          bool // 1 = code or data, 0 = system
	DPL        uint8
	P          bool
	AVL, L, DB bool
	G          bool
}

func decodeSegDesc(b []byte) segDesc {
	access, flags := b[5], b[6]
	return segDesc{
		Base:      uint32(b[2]) | uint32(b[3])<<8 | uint32(b[4])<<16 | uint32(b[7])<<24,
		Code:      access&(1<<3) != 0,
		ConfOrExp: access&(1<<2) != 0,
		ReadWrite: access&(1<<1) != 0,
		S:         access&(1<<4) != 0,
		DPL:       access >> 5 & 3,
		P:         access&(1<<7) != 0,
		AVL:       flags&(1<<4) != 0,
		L:         flags&(1<<5) != 0,
		DB:        flags&(1<<6) != 0,
		G:         flags&(1<<7) != 0,
	}
}

// sysDesc is a 16-byte 64-bit system-segment descriptor (TSS/LDT) decoded
// per SDM vol. 3A §7.2.3 (figure 7-4).
type sysDesc struct {
	Base      uint64
	Limit     uint32
	Type      uint8
	S         bool
	DPL       uint8
	P         bool
	AVL, L, D bool
	G         bool
	Reserved  uint32 // bytes 12-15, must be zero
}

func decodeSysDesc(b []byte) sysDesc {
	access, flags := b[5], b[6]
	return sysDesc{
		Base: uint64(b[2]) | uint64(b[3])<<8 | uint64(b[4])<<16 | uint64(b[7])<<24 |
			uint64(binary.LittleEndian.Uint32(b[8:12]))<<32,
		Limit:    uint32(b[0]) | uint32(b[1])<<8 | uint32(flags&0xF)<<16,
		Type:     access & 0xF,
		S:        access&(1<<4) != 0,
		DPL:      access >> 5 & 3,
		P:        access&(1<<7) != 0,
		AVL:      flags&(1<<4) != 0,
		L:        flags&(1<<5) != 0,
		D:        flags&(1<<6) != 0,
		G:        flags&(1<<7) != 0,
		Reserved: binary.LittleEndian.Uint32(b[12:16]),
	}
}

// dirtyGDT returns a GDT whose every bit is set, so Init must write every
// field it is responsible for.
func dirtyGDT() amd64.GDT {
	var g amd64.GDT
	for i := range g {
		g[i] = ^uint64(0)
	}
	return g
}

func TestGDTSelectorLayout(t *testing.T) {
	// SYSCALL loads CS from STAR[47:32] and SS from that +8; SYSRET (64-bit)
	// loads SS from STAR[63:48]+8 and CS from STAR[63:48]+16, both with RPL 3.
	tests := []struct {
		name      string
		got, want int
	}{
		{"KernelDS = KernelCS+8", amd64.KernelDS, amd64.KernelCS + 8},
		{"UserCS = UserDS+8", amd64.UserCS, amd64.UserDS + 8},
		{"KernelCS RPL", amd64.KernelCS & 3, 0},
		{"KernelDS RPL", amd64.KernelDS & 3, 0},
		{"UserDS RPL", amd64.UserDS & 3, 3},
		{"UserCS RPL", amd64.UserCS & 3, 3},
		{"TSSSel RPL", amd64.TSSSel & 3, 0},
		{"TSS takes two slots at the end", amd64.TSSSel>>3 + 2, amd64.GDTLength},
		{"TSSSize", amd64.TSSSize, 104},
		{"sizeof TSS", int(unsafe.Sizeof(amd64.TSS{})), amd64.TSSSize},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: got %#x, want %#x", tc.name, tc.got, tc.want)
		}
	}
}

func TestGDTInitSegments(t *testing.T) {
	code := func(dpl uint8) segDesc {
		return segDesc{Code: true, ReadWrite: true, S: true, DPL: dpl, P: true, L: true}
	}
	data := func(dpl uint8) segDesc {
		return segDesc{ReadWrite: true, S: true, DPL: dpl, P: true}
	}
	tests := []struct {
		name string
		sel  int
		want segDesc
	}{
		{"kernel code", amd64.KernelCS, code(0)},
		{"kernel data", amd64.KernelDS, data(0)},
		{"user data", amd64.UserDS, data(3)},
		{"user code", amd64.UserCS, code(3)},
	}
	g := dirtyGDT()
	g.Init(0xFFFF_8000_0012_3000)
	b := wordBytes(g[:])
	if !cmp.Equal(b[0:8], make([]byte, 8)) {
		t.Errorf("null descriptor = % x, want zeros", b[0:8])
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.sel&4 != 0 {
				t.Fatalf("selector %#x has TI set (LDT)", tc.sel)
			}
			if rpl := uint8(tc.sel & 3); rpl != tc.want.DPL {
				t.Errorf("selector %#x RPL %d, descriptor DPL %d", tc.sel, rpl, tc.want.DPL)
			}
			idx := tc.sel >> 3
			got := decodeSegDesc(b[8*idx : 8*idx+8])
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("descriptor %d (-want +got):\n%s", idx, diff)
			}
		})
	}
}

func TestGDTInitTSSDescriptor(t *testing.T) {
	bases := []uint64{
		0,
		0x1000,
		0x0000_0000_00FF_FFFF, // base 23:0 only
		0x0000_0000_FF00_0000, // base 31:24 only
		0x0000_0000_FFFF_FFFF,
		0x0000_0001_0000_0000, // lowest bit of base 63:32
		0x8000_0000_0000_0000, // highest bit
		0xFFFF_8000_0012_3450, // a direct-map address
		0x0123_4567_89AB_CDEF,
		0xFEDC_BA98_7654_3210,
		0xFFFF_FFFF_FFFF_FFFF,
	}
	for _, base := range bases {
		g := dirtyGDT()
		g.Init(uintptr(base))
		b := wordBytes(g[:])
		sel := amd64.TSSSel >> 3
		got := decodeSysDesc(b[8*sel : 8*sel+16])
		want := sysDesc{
			Base:  base,
			Limit: amd64.TSSSize - 1, // byte granular; the I/O map at 104 lies beyond it
			Type:  0x9,               // available 64-bit TSS
			P:     true,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Init(%#x): TSS descriptor (-want +got):\n%s", base, diff)
		}
	}
}

// tssOp is one setter call and the field it must write.
type tssOp struct {
	name  string
	apply func(*amd64.TSS)
	off   int    // byte offset of the field; -1 for no change
	size  int    // 8 or 2
	value uint64 // little-endian value expected there
}

func tssOps() []tssOp {
	ops := []tssOp{
		{"SetRSP0", func(t *amd64.TSS) { t.SetRSP0(0xFFFF_8000_DEAD_BEF0) }, 4, 8, 0xFFFF_8000_DEAD_BEF0},
		{"SetRSP0 all ones", func(t *amd64.TSS) { t.SetRSP0(^uint64(0)) }, 4, 8, ^uint64(0)},
		{"SetRSP0 zero", func(t *amd64.TSS) { t.SetRSP0(0) }, 4, 8, 0},
		{"SetIOMapBase", func(t *amd64.TSS) { t.SetIOMapBase() }, 102, 2, amd64.TSSSize},
	}
	for n := 1; n <= 7; n++ {
		v := 0x0123_4567_89AB_CDEF ^ uint64(n)<<60 ^ uint64(n)
		ops = append(ops, tssOp{
			name:  fmt.Sprintf("SetIST(%d)", n),
			apply: func(t *amd64.TSS) { t.SetIST(n, v) },
			off:   36 + 8*(n-1),
			size:  8,
			value: v,
		})
	}
	for _, n := range []int{-1, 0, 8, 9, 1 << 20} {
		ops = append(ops, tssOp{
			name:  fmt.Sprintf("SetIST(%d) out of range", n),
			apply: func(t *amd64.TSS) { t.SetIST(n, 0x1111_2222_3333_4444) },
			off:   -1,
		})
	}
	return ops
}

// checkTSSOp applies op to a TSS whose bytes are initially before and
// checks that exactly the op's field changed.
func checkTSSOp(t *testing.T, op tssOp, before []byte) {
	t.Helper()
	var tss amd64.TSS
	bytesToWords(before, tss[:])
	op.apply(&tss)
	got := wordBytes(tss[:])
	want := append([]byte(nil), before...)
	switch op.size {
	case 8:
		binary.LittleEndian.PutUint64(want[op.off:], op.value)
	case 2:
		binary.LittleEndian.PutUint16(want[op.off:], uint16(op.value))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: TSS bytes (-want +got):\n%s", op.name, diff)
	}
}

func TestTSSSettersZero(t *testing.T) {
	for _, op := range tssOps() {
		checkTSSOp(t, op, make([]byte, amd64.TSSSize))
	}
}

func TestTSSSettersPreserveNeighbours(t *testing.T) {
	for _, op := range tssOps() {
		if op.name == "SetIOMapBase" {
			continue // see TestTSSSetIOMapBaseOverwritesField
		}
		checkTSSOp(t, op, fillPattern(amd64.TSSSize))
	}
}

func TestTSSSetIOMapBaseOverwritesField(t *testing.T) {
	for _, op := range tssOps() {
		if op.name == "SetIOMapBase" {
			checkTSSOp(t, op, fillPattern(amd64.TSSSize))
		}
	}
}

func TestTSSAllFields(t *testing.T) {
	// Every field set at once: none may overwrite another.
	var tss amd64.TSS
	tss.SetRSP0(0x1010_1010_1010_1010)
	for n := 1; n <= 7; n++ {
		tss.SetIST(n, 0x0101_0101_0101_0101*uint64(n+1))
	}
	tss.SetIOMapBase()
	want := make([]byte, amd64.TSSSize)
	binary.LittleEndian.PutUint64(want[4:], 0x1010_1010_1010_1010)
	for n := 1; n <= 7; n++ {
		binary.LittleEndian.PutUint64(want[36+8*(n-1):], 0x0101_0101_0101_0101*uint64(n+1))
	}
	binary.LittleEndian.PutUint16(want[102:], amd64.TSSSize)
	if diff := cmp.Diff(want, wordBytes(tss[:])); diff != "" {
		t.Errorf("TSS bytes (-want +got):\n%s", diff)
	}
}

func TestPseudoDescriptor(t *testing.T) {
	tests := []struct {
		base  uint64
		limit uint16
	}{
		{0, 0},
		{0xFFFF_8000_0010_0000, amd64.GDTLength*8 - 1},
		{0xFFFF_FFFF_8020_3000, amd64.NumVectors*16 - 1},
		{0x0123_4567_89AB_CDEF, 0xFFFF},
		{0xFFFF_FFFF_FFFF_FFFF, 0x1234},
	}
	for _, tc := range tests {
		var p amd64.PseudoDescriptor
		for i := range p {
			p[i] = ^uint64(0)
		}
		p.Set(uintptr(tc.base), tc.limit)
		// Read the operand through Addr, relative to p so no uintptr is
		// turned back into a pointer.
		start := uintptr(unsafe.Pointer(&p))
		off := p.Addr() - start
		if p.Addr() < start || off+10 > unsafe.Sizeof(p) {
			t.Fatalf("Addr() = %#x is not inside p (%#x, %d bytes)", p.Addr(), start, unsafe.Sizeof(p))
		}
		mem := unsafe.Slice((*byte)(unsafe.Pointer(&p)), unsafe.Sizeof(p))
		operand := mem[off : off+10]
		got := struct {
			Limit uint16
			Base  uint64
		}{binary.LittleEndian.Uint16(operand[0:2]), binary.LittleEndian.Uint64(operand[2:10])}
		want := struct {
			Limit uint16
			Base  uint64
		}{tc.limit, tc.base}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Set(%#x, %#x): operand at Addr (-want +got):\n%s", tc.base, tc.limit, diff)
		}
	}
}
