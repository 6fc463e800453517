package ksym

import (
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// decodeAll reads every entry back through At, for comparing with input.
func decodeAll(t testing.TB, tab Table) []Symbol {
	t.Helper()
	var out []Symbol
	for i := 0; i < tab.Len(); i++ {
		addr, size, name, ok := tab.At(i)
		if !ok {
			t.Fatalf("At(%d) failed on a table that Open accepted", i)
		}
		out = append(out, Symbol{Addr: addr, Size: size, Name: string(name)})
	}
	return out
}

func mustEncode(t testing.TB, syms []Symbol) []byte {
	t.Helper()
	b, err := Encode(syms)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return b
}

func TestEncodeRoundTrip(t *testing.T) {
	long := strings.Repeat("x", MaxNameLen)
	tests := []struct {
		name string
		in   []Symbol
		want []Symbol // nil means: same as in
	}{
		{name: "empty"},
		{name: "one", in: []Symbol{{Addr: 0x1000, Size: 16, Name: "main.main"}}},
		{
			name: "unsorted input is sorted",
			in: []Symbol{
				{Addr: 0x2000, Size: 8, Name: "b"},
				{Addr: 0x1000, Size: 8, Name: "a"},
			},
			want: []Symbol{
				{Addr: 0x1000, Size: 8, Name: "a"},
				{Addr: 0x2000, Size: 8, Name: "b"},
			},
		},
		{
			name: "adjacent and duplicate names",
			in: []Symbol{
				{Addr: 0x10, Size: 0x10, Name: "dup"},
				{Addr: 0x20, Size: 0x10, Name: "dup"},
				{Addr: 0x30, Size: 1, Name: "other"},
			},
		},
		{name: "max name length", in: []Symbol{{Addr: 1, Size: 1, Name: long}}},
		{name: "top of address space", in: []Symbol{{Addr: 1<<64 - 17, Size: 16, Name: "top"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab, err := Open(mustEncode(t, tt.in))
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			want := tt.want
			if want == nil {
				want = tt.in
			}
			if diff := cmp.Diff(want, decodeAll(t, tab)); diff != "" {
				t.Errorf("round trip mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEncodeDeduplicatesNames(t *testing.T) {
	one := mustEncode(t, []Symbol{{Addr: 0, Size: 1, Name: "same"}})
	two := mustEncode(t, []Symbol{{Addr: 0, Size: 1, Name: "same"}, {Addr: 1, Size: 1, Name: "same"}})
	if diff := cmp.Diff(len(one)+EntrySize, len(two)); diff != "" {
		t.Errorf("second copy of a name should cost only an entry (-want +got):\n%s", diff)
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []Symbol
		want error
	}{
		{"empty name", []Symbol{{Addr: 1, Size: 1}}, ErrEmptyName},
		{"name too long", []Symbol{{Addr: 1, Size: 1, Name: strings.Repeat("y", MaxNameLen+1)}}, ErrNameTooLong},
		{"zero size", []Symbol{{Addr: 1, Name: "z"}}, ErrZeroSize},
		{"wraps", []Symbol{{Addr: 1<<64 - 1, Size: 2, Name: "w"}}, ErrWraps},
		{"overlap", []Symbol{{Addr: 0, Size: 9, Name: "a"}, {Addr: 8, Size: 1, Name: "b"}}, ErrOverlap},
		{"same address", []Symbol{{Addr: 4, Size: 1, Name: "a"}, {Addr: 4, Size: 1, Name: "b"}}, ErrOverlap},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Encode(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Encode error = %v, want %v", err, tt.want)
			}
			var se *SymbolError
			if !errors.As(err, &se) {
				t.Fatalf("Encode error %T is not a *SymbolError", err)
			}
		})
	}
}

func TestEncodeDoesNotModifyInput(t *testing.T) {
	in := []Symbol{{Addr: 2, Size: 1, Name: "b"}, {Addr: 1, Size: 1, Name: "a"}}
	orig := slices.Clone(in)
	mustEncode(t, in)
	if diff := cmp.Diff(orig, in); diff != "" {
		t.Errorf("Encode modified its input (-want +got):\n%s", diff)
	}
}

func TestLookup(t *testing.T) {
	tab, err := Open(mustEncode(t, []Symbol{
		{Addr: 0x1000, Size: 0x10, Name: "first"},
		{Addr: 0x1010, Size: 0x20, Name: "second"}, // adjacent to first
		{Addr: 0x2000, Size: 1, Name: "tiny"},      // after a gap
		{Addr: 1<<64 - 5, Size: 4, Name: "last"},   // ends one byte short of 2^64
	}))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	type result struct {
		Name string
		Off  uint64
		OK   bool
	}
	tests := []struct {
		pc   uint64
		want result
	}{
		{0, result{}},
		{0xfff, result{}},
		{0x1000, result{"first", 0, true}},
		{0x100f, result{"first", 0xf, true}},
		{0x1010, result{"second", 0, true}},
		{0x102f, result{"second", 0x1f, true}},
		{0x1030, result{}},
		{0x1fff, result{}},
		{0x2000, result{"tiny", 0, true}},
		{0x2001, result{}},
		{1<<64 - 6, result{}},
		{1<<64 - 2, result{"last", 3, true}},
		{1<<64 - 1, result{}},
	}
	for _, tt := range tests {
		name, off, ok := tab.Lookup(tt.pc)
		got := result{string(name), off, ok}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Lookup(%#x) mismatch (-want +got):\n%s", tt.pc, diff)
		}
	}
}

func TestZeroTable(t *testing.T) {
	var tab Table
	if _, _, ok := tab.Lookup(0); ok {
		t.Error("zero Table found a symbol")
	}
	if _, _, _, ok := tab.At(0); ok {
		t.Error("zero Table has an entry 0")
	}
	if got := tab.Len(); got != 0 {
		t.Errorf("zero Table Len = %d", got)
	}
}

// valid returns a small well-formed table for the corruption tests.
func valid(t testing.TB) []byte {
	return mustEncode(t, []Symbol{
		{Addr: 0x10, Size: 0x10, Name: "a"},
		{Addr: 0x20, Size: 0x10, Name: "bb"},
	})
}

func TestOpenErrors(t *testing.T) {
	le := binary.LittleEndian
	entry := func(i int) int { return HeaderSize + i*EntrySize }
	tests := []struct {
		name   string
		mutate func([]byte) []byte
		want   error
	}{
		{"nil", func([]byte) []byte { return nil }, ErrTruncated},
		{"short header", func(b []byte) []byte { return b[:HeaderSize-1] }, ErrTruncated},
		{"bad magic", func(b []byte) []byte { b[0] = 'X'; return b }, ErrBadMagic},
		{"future version", func(b []byte) []byte { b[6] = 2; return b }, ErrBadMagic},
		{"reserved set", func(b []byte) []byte { b[20] = 1; return b }, ErrBadHeader},
		{"count too big", func(b []byte) []byte { le.PutUint32(b[8:], 1<<32-1); return b }, ErrTruncated},
		{"strtab over entries", func(b []byte) []byte { le.PutUint32(b[12:], HeaderSize); return b }, ErrBadHeader},
		{"strtab past end", func(b []byte) []byte { le.PutUint32(b[16:], 1<<32-1); return b }, ErrTruncated},
		{"truncated strtab", func(b []byte) []byte { return b[:len(b)-1] }, ErrTruncated},
		{"zero size", func(b []byte) []byte { le.PutUint32(b[entry(0)+8:], 0); return b }, ErrBadEntry},
		{"wraps", func(b []byte) []byte { le.PutUint64(b[entry(1):], 1<<64-1); return b }, ErrBadEntry},
		{"overlap", func(b []byte) []byte { le.PutUint32(b[entry(0)+8:], 0x11); return b }, ErrUnsorted},
		{"descending", func(b []byte) []byte { le.PutUint64(b[entry(1):], 0); return b }, ErrUnsorted},
		{"name offset outside", func(b []byte) []byte { le.PutUint32(b[entry(0)+12:], 1000); return b }, ErrBadName},
		{"name length outside", func(b []byte) []byte {
			off := le.Uint32(b[12:])
			le.PutUint16(b[off:], 100)
			return b
		}, ErrBadName},
		{"empty name", func(b []byte) []byte {
			off := le.Uint32(b[12:])
			le.PutUint16(b[off:], 0)
			return b
		}, ErrBadName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(tt.mutate(valid(t)))
			if err != tt.want {
				t.Errorf("Open error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestOpenAllowsTrailingPadding(t *testing.T) {
	b := append(valid(t), make([]byte, 100)...)
	tab, err := Open(b)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if diff := cmp.Diff(2, tab.Len()); diff != "" {
		t.Errorf("Len mismatch (-want +got):\n%s", diff)
	}
}

// TestLookupAfterCorruption scribbles over every byte of an opened table
// and checks that Lookup keeps to its bounds, as the panic path needs.
func TestLookupAfterCorruption(t *testing.T) {
	for _, v := range []byte{0x00, 0x7f, 0xff} {
		b := valid(t)
		tab, err := Open(b)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		for i := range b {
			b[i] = v
			for _, pc := range []uint64{0, 0x10, 0x25, 0x2f, 1<<64 - 1} {
				tab.Lookup(pc)
			}
			tab.At(0)
			tab.At(1)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	b := valid(t)
	bad := valid(t)[:HeaderSize+1]
	tab, err := Open(b)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	tests := []struct {
		name string
		fn   func()
	}{
		{"Lookup hit", func() { tab.Lookup(0x25) }},
		{"Lookup miss", func() { tab.Lookup(0x5) }},
		{"Lookup past end", func() { tab.Lookup(1 << 40) }},
		{"At", func() { tab.At(1) }},
		{"Open valid", func() { _, _ = Open(b) }},
		{"Open invalid", func() { _, _ = Open(bad) }},
	}
	for _, tt := range tests {
		if got := testing.AllocsPerRun(100, tt.fn); got != 0 {
			t.Errorf("%s: %v allocations per run, want 0", tt.name, got)
		}
	}
}
