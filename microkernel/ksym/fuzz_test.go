package ksym

import (
	"encoding/binary"
	"testing"
)

// FuzzOpenLookup opens arbitrary bytes and looks up an arbitrary PC. Open
// must reject or accept without panicking; on an accepted table, Lookup
// must agree with a linear scan.
func FuzzOpenLookup(f *testing.F) {
	good, err := Encode([]Symbol{
		{Addr: 0x1000, Size: 0x10, Name: "a"},
		{Addr: 0x1010, Size: 0x20, Name: "bb"},
		{Addr: 0x3000, Size: 1, Name: "a"},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, uint64(0x1015))
	f.Add(good, uint64(0x3000))
	f.Add(good[:HeaderSize], uint64(0))
	f.Add([]byte(Magic), uint64(1))
	f.Fuzz(func(t *testing.T, b []byte, pc uint64) {
		tab, err := Open(b)
		if err != nil {
			return
		}
		name, off, ok := tab.Lookup(pc)
		var wantName []byte
		var wantOff uint64
		wantOK := false
		for i := 0; i < tab.Len(); i++ {
			addr, size, n, ok := tab.At(i)
			if !ok {
				t.Fatalf("At(%d) failed on an accepted table", i)
			}
			if addr <= pc && pc-addr < uint64(size) {
				wantName, wantOff, wantOK = n, pc-addr, true
			}
		}
		if ok != wantOK || off != wantOff || string(name) != string(wantName) {
			t.Fatalf("Lookup(%#x) = %q, %#x, %v; linear scan says %q, %#x, %v",
				pc, name, off, ok, wantName, wantOff, wantOK)
		}
	})
}

// FuzzCorruptAfterOpen models memory corruption in the panic path: a valid
// table is opened, then bytes are overwritten before Lookup runs.
func FuzzCorruptAfterOpen(f *testing.F) {
	f.Add([]byte{0, 0xff, 13, 0x7f}, uint64(0x1015))
	f.Fuzz(func(t *testing.T, patch []byte, pc uint64) {
		b, err := Encode([]Symbol{
			{Addr: 0x1000, Size: 0x10, Name: "a"},
			{Addr: 0x1010, Size: 0x20, Name: "bb"},
			{Addr: 0x3000, Size: 1, Name: "ccc"},
		})
		if err != nil {
			t.Fatal(err)
		}
		tab, err := Open(b)
		if err != nil {
			t.Fatal(err)
		}
		// Each pair of patch bytes is (position, value).
		for i := 0; i+1 < len(patch); i += 2 {
			b[int(patch[i])%len(b)] = patch[i+1]
		}
		tab.Lookup(pc)
		for i := -1; i <= tab.Len(); i++ {
			tab.At(i)
		}
	})
}

// FuzzEncodeRoundTrip turns arbitrary bytes into symbols and checks that
// whatever Encode accepts, Open accepts and reproduces.
func FuzzEncodeRoundTrip(f *testing.F) {
	f.Add([]byte("\x00\x10\x00\x00\x00\x00\x00\x00\x10\x00\x00\x00\x03abc"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var syms []Symbol
		for len(data) >= 13 {
			n := int(data[12]) % 8
			rest := data[13:]
			if n > len(rest) {
				n = len(rest)
			}
			syms = append(syms, Symbol{
				Addr: binary.LittleEndian.Uint64(data[0:8]),
				Size: binary.LittleEndian.Uint32(data[8:12]),
				Name: string(rest[:n]),
			})
			data = rest[n:]
		}
		b, err := Encode(syms)
		if err != nil {
			return
		}
		tab, err := Open(b)
		if err != nil {
			t.Fatalf("Open rejected Encode output: %v", err)
		}
		if tab.Len() != len(syms) {
			t.Fatalf("Len = %d, want %d", tab.Len(), len(syms))
		}
		for _, s := range syms {
			name, off, ok := tab.Lookup(s.Addr + uint64(s.Size) - 1)
			if !ok || string(name) != s.Name || off != uint64(s.Size)-1 {
				t.Fatalf("Lookup(end of %+v) = %q, %d, %v", s, name, off, ok)
			}
		}
	})
}
