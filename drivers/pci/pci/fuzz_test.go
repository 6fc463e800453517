package pci

import (
	"encoding/binary"
	"strings"
	"testing"

	"valence.dev/drivers/lib/devtest"
)

// fuzzBytes is how much of each function's space FuzzScan fills from the
// fuzzer's input: the header, the capabilities and the start of the
// extended space. The rest reads as zero.
const fuzzBytes = 0x200

// fuzzECAM makes bus 0 of an ECAM window out of data: each function's
// first fuzzBytes are taken from data (at a different starting point for
// each function), and so is which of their bits a write changes, so that
// BAR sizing reads back whatever the input says.
func fuzzECAM(t *testing.T, data []byte) *ECAM {
	regs := devtest.NewRegs(ECAMBusSize)
	n := uint64(len(data))
	if n == 0 {
		data, n = []byte{0}, 1
	}
	// rep is data repeated, so that any window of fuzzBytes starting in
	// data is one slice: function page p starts at (p*53) mod n, its
	// write mask (inverted) 17 bytes further.
	rep := make([]byte, 0, n+fuzzBytes+17+n)
	for uint64(len(rep)) < n+fuzzBytes+17 {
		rep = append(rep, data...)
	}
	init := func(page uint64) []byte { return rep[page*53%n:][:fuzzBytes] }
	wmask := func(page uint64) []byte { return rep[page*53%n+17:][:fuzzBytes] }
	for page := uint64(0); page < 256; page++ {
		b := init(page)
		for i := 0; i < fuzzBytes; i += 8 {
			regs.Store(page<<12|uint64(i), 8, binary.LittleEndian.Uint64(b[i:]))
		}
	}
	regs.Write = func(off uint64, width int, v uint64) {
		page, reg := off>>12, off&0xfff
		if reg >= fuzzBytes {
			return
		}
		in, wm := init(page)[reg:], wmask(page)[reg:]
		var nv uint64
		for i := 0; i < width; i++ {
			m := ^wm[i]
			nv |= uint64(byte(v>>(8*i))&m|in[i]&^m) << (8 * i)
		}
		regs.Store(off, width, nv)
	}
	e, err := NewECAM(regs, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func FuzzScan(f *testing.F) {
	fns, _ := q35()
	for _, fn := range fns {
		f.Add(append([]byte(nil), fn.cfg[:fuzzBytes]...))
	}
	f.Add([]byte{0x86, 0x80, 0xc0, 0x29})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		e := fuzzECAM(t, data)
		got, err := Scan(e)
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		if len(got) > 256 {
			t.Fatalf("%d functions on one bus", len(got))
		}
		for i := range got {
			checkFunction(t, &got[i])
			fn := &got[i]
			cfg := e.Function(fn.Addr.Bus, fn.Addr.Device, fn.Addr.Function)
			// The helpers must not panic on whatever Scan accepted.
			_ = fn.EnableMSI(cfg, Message{0xfee00000, 0}, 1)
			if m := fn.MSIX; m != nil {
				if b, ok := fn.BAR(int(m.TableBIR)); ok && b.Size <= 1<<20 {
					_ = fn.EnableMSIX(cfg, devtest.NewRegs(b.Size), []Message{{0xfee00000, 0}})
				}
			}
		}
	})
}

// checkFunction checks the promises Function's documentation makes.
func checkFunction(t *testing.T, f *Function) {
	_ = f.String()
	if f.InterruptPin > 4 {
		t.Errorf("%v: interrupt pin %d", f.Addr, f.InterruptPin)
	}
	n := 6
	if f.HeaderType == HeaderBridge {
		n = 2
	}
	for _, b := range f.BARs {
		last := b.Index
		if b.Kind == BARMemory64 {
			last++
		}
		if b.Index < 0 || last >= n || b.Size == 0 || b.Size&(b.Size-1) != 0 || b.Base&(b.Size-1) != 0 || b.Base+b.Size-1 < b.Base {
			t.Errorf("%v: bad BAR %+v", f.Addr, b)
		}
	}
	if len(f.Caps) > maxCaps || len(f.ExtCaps) > maxExtCaps {
		t.Errorf("%v: %d capabilities, %d extended", f.Addr, len(f.Caps), len(f.ExtCaps))
	}
	for _, c := range f.Caps {
		if c.Offset < capFirst || c.Offset >= capEnd || c.Offset%4 != 0 {
			t.Errorf("%v: capability at %#x", f.Addr, c.Offset)
		}
	}
	for _, v := range f.VendorCaps {
		if len(v.Data) < 3 || int(v.Data[2]) != len(v.Data) || int(v.Offset)+len(v.Data) > capEnd {
			t.Errorf("%v: vendor capability at %#x of %d bytes", f.Addr, v.Offset, len(v.Data))
		}
	}
	if m := f.MSIX; m != nil {
		tb, ok1 := f.BAR(int(m.TableBIR))
		pb, ok2 := f.BAR(int(m.PBABIR))
		if !ok1 || !ok2 || uint64(m.TableOffset)+16*uint64(m.TableSize) > tb.Size || uint64(m.PBAOffset) > pb.Size {
			t.Errorf("%v: MSI-X %+v outside its BARs", f.Addr, m)
		}
	}
	if m := f.MSI; m != nil && (m.Vectors < 1 || m.Vectors > 32) {
		t.Errorf("%v: MSI %+v", f.Addr, m)
	}
	if b := f.Bridge; b != nil && b.Secondary > b.Subordinate {
		t.Errorf("%v: bridge %+v", f.Addr, b)
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add(nvmeManifest)
	f.Add("[driver]\nname = \"netd\"\npath = \"/bin/netd\"\nargs = [\"-v\"]\n[[match]]\nclass = 2\n")
	f.Add("[driver]\nname = \"x\"\npath = \"/x\"\n[[match]]\nvendor = 0x10000\ndevice = 1\n")
	f.Add("[[match]]\n[driver]\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, data string) {
		m, err := ParseManifest("fuzz.toml", []byte(data))
		if err != nil {
			if m != nil {
				t.Errorf("ParseManifest returned a manifest and error %v", err)
			}
			return
		}
		if m.Name != "fuzz.toml" || strings.TrimSpace(m.Driver.Name) == "" || !strings.HasPrefix(m.Driver.Path, "/") || len(m.Match) == 0 {
			t.Errorf("ParseManifest accepted %+v", m)
		}
		for _, r := range m.Match {
			if err := checkShape(r.Fields); err != nil || r.Specificity() < 1 || r.Specificity() > 7 {
				t.Errorf("rule %+v accepted: %v, specificity %d", r, err, r.Specificity())
			}
			// A function made to fit the rule must match it.
			fn := &Function{Vendor: r.Vendor, Device: r.Device, Class: r.Class, Subclass: r.Subclass, ProgIF: r.ProgIF}
			if !r.Matches(fn) {
				t.Errorf("rule %+v does not match %+v", r, fn)
			}
			if got, ok := Match([]*Manifest{m}, fn); !ok || got != m {
				t.Errorf("Match does not find the manifest for its own rule %+v", r)
			}
		}
	})
}
