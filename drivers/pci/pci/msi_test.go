package pci

import (
	"errors"
	"strings"
	"testing"

	"valence.dev/drivers/lib/devtest"
)

// scanOne scans a fake ECAM holding just f and returns it and its
// configuration space.
func scanOne(t *testing.T, f *fakeFn) (*Function, Config) {
	t.Helper()
	e := newFakeECAM(t, f.addr.Bus, f.addr.Bus, f)
	fns, err := Scan(e)
	if err != nil || len(fns) != 1 {
		t.Fatalf("Scan: %d functions, error %v", len(fns), err)
	}
	if len(fns[0].Problems) != 0 {
		t.Fatalf("Scan: problems %q", fns[0].Problems)
	}
	return &fns[0], e.Function(f.addr.Bus, f.addr.Device, f.addr.Function)
}

// nvmeWithMSIX is an NVMe function with an MSI-X table of 8 entries at
// 0x2000 of its 16 KiB BAR0, and an MSI capability besides; and the BAR's
// register window, its table entries masked as after reset (PCI Local
// Bus 3.0 §6.8.2.9).
func nvmeWithMSIX(t *testing.T) (*Function, Config, *devtest.Regs) {
	f := newFn(0, 4, 0, 0x1b36, 0x0010, 0x01, 0x08, 0x02, 2).mem64(0, 0xfebd0000, 16<<10, false)
	f.msi(0, false, false)
	f.msix(8, 0, 0x2000, 0, 0x3000)
	fn, cfg := scanOne(t, f)
	bar := devtest.NewRegs(16 << 10)
	for i := 0; i < 8; i++ {
		bar.Store(uint64(0x2000+16*i+12), 4, 1)
	}
	return fn, cfg, bar
}

func TestEnableMSIX(t *testing.T) {
	fn, cfg, bar := nvmeWithMSIX(t)
	// Pretend MSI was on, to check it is turned off.
	cfg.Write16(fn.MSI.Offset+msiControl, msiEnable)
	bar.Write = func(off uint64, width int, v uint64) {
		ctrl := cfg.Read16(fn.MSIX.Offset + msixControl)
		if ctrl&msixFunctionMask == 0 || ctrl&msixEnable == 0 {
			t.Errorf("table written at %#x with Message Control %#04x: want Enable and Function Mask set", off, ctrl)
		}
	}
	msgs := []Message{{0xfee00000, 0x41}, {0xfee01000, 0x42}, {0x1_0000_0000, 0x43}}
	if err := fn.EnableMSIX(cfg, bar, msgs); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8; i++ {
		e := uint64(0x2000 + 16*i)
		lo, hi, data, ctrl := bar.Load(e, 4), bar.Load(e+4, 4), bar.Load(e+8, 4), bar.Load(e+12, 4)
		if i < len(msgs) {
			if lo != msgs[i].Addr&0xffffffff || hi != msgs[i].Addr>>32 || data != uint64(msgs[i].Data) || ctrl != 0 {
				t.Errorf("entry %d: addr %#x:%#x data %#x control %#x, want %#x data %#x unmasked", i, hi, lo, data, ctrl, msgs[i].Addr, msgs[i].Data)
			}
		} else if ctrl != 1 {
			t.Errorf("entry %d: vector control %#x, want masked", i, ctrl)
		}
	}
	bar.Write = nil
	if ctrl := cfg.Read16(fn.MSIX.Offset + msixControl); ctrl&(msixEnable|msixFunctionMask) != msixEnable {
		t.Errorf("Message Control %#04x after EnableMSIX: want Enable without Function Mask", ctrl)
	}
	if ctrl := cfg.Read16(fn.MSI.Offset + msiControl); ctrl&msiEnable != 0 {
		t.Errorf("MSI still enabled (control %#04x) with MSI-X on", ctrl)
	}

	// Per-entry changes afterwards.
	if err := fn.MSIX.Mask(bar, 1, true); err != nil || bar.Load(0x2000+16+12, 4) != 1 {
		t.Errorf("Mask(1): error %v, vector control %#x", err, bar.Load(0x2000+16+12, 4))
	}
	if err := fn.MSIX.SetEntry(bar, 1, Message{0xfee02000, 0x50}); err != nil || bar.Load(0x2000+16+8, 4) != 0x50 || bar.Load(0x2000+16+12, 4) != 0 {
		t.Errorf("SetEntry(1): error %v, data %#x, control %#x", err, bar.Load(0x2000+16+8, 4), bar.Load(0x2000+16+12, 4))
	}

	fn.DisableMSIX(cfg)
	if ctrl := cfg.Read16(fn.MSIX.Offset + msixControl); ctrl&msixEnable != 0 {
		t.Errorf("Message Control %#04x after DisableMSIX", ctrl)
	}
}

func TestEnableMSIXErrors(t *testing.T) {
	fn, cfg, bar := nvmeWithMSIX(t)
	ok := Message{0xfee00000, 0x41}
	cases := []struct {
		name  string
		fn    *Function
		table *devtest.Regs
		msgs  []Message
		want  string
	}{
		{"no vectors", fn, bar, nil, "0 vectors asked for"},
		{"more vectors than entries", fn, bar, make([]Message, 9), "9 vectors asked for; the table has 8"},
		{"unaligned address", fn, bar, []Message{ok, {0xfee00002, 1}}, "entry 1: message address 0xfee00002 is not dword-aligned"},
		{"window too small", fn, devtest.NewRegs(0x2000), []Message{ok}, "MSI-X table ends at 0x2080"},
		{"no MSI-X", &Function{}, bar, []Message{ok}, "function lacks the capability"},
	}
	for _, c := range cases {
		before := cfg.Read16(fn.MSIX.Offset + msixControl)
		err := c.fn.EnableMSIX(cfg, c.table, c.msgs)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
		if after := cfg.Read16(fn.MSIX.Offset + msixControl); after != before {
			t.Errorf("%s: Message Control changed from %#04x to %#04x by a refused call", c.name, before, after)
		}
	}
	if err := (&Function{}).EnableMSIX(cfg, bar, []Message{ok}); !errors.Is(err, ErrNotCapable) {
		t.Errorf("EnableMSIX without MSI-X: %v, want ErrNotCapable", err)
	}
	for _, i := range []int{-1, 8} {
		if err := fn.MSIX.SetEntry(bar, i, ok); err == nil {
			t.Errorf("SetEntry(%d): no error", i)
		}
		if err := fn.MSIX.Mask(bar, i, true); err == nil {
			t.Errorf("Mask(%d): no error", i)
		}
	}
}

func TestEnableMSI(t *testing.T) {
	cases := []struct {
		name      string
		addr64    bool
		perVector bool
		msg       Message
		vectors   int
		want      map[uint16]uint32 // capability offset: value (dword)
		wantCtrl  uint16
	}{
		{
			name: "64-bit, masks, 4 of 8 vectors", addr64: true, perVector: true,
			msg: Message{0x1_fee0_0000, 0x40}, vectors: 4,
			want:     map[uint16]uint32{msiAddr: 0xfee00000, msiAddrHi: 1, msiData64: 0x40, msiMask64: 0xfffffff0},
			wantCtrl: 3<<msiMMCShift | msiAddr64Cap | msiMaskCap | 2<<msiMMEShift | msiEnable,
		},
		{
			name: "32-bit, 1 vector", msg: Message{0xfee00000, 0x31}, vectors: 1,
			want:     map[uint16]uint32{msiAddr: 0xfee00000, msiData32: 0x31},
			wantCtrl: 3<<msiMMCShift | msiEnable,
		},
	}
	for _, c := range cases {
		f := newFn(0, 0x1f, 0, 0x8086, 0x2922, 0x01, 0x06, 0x01, 2)
		off := f.msi(3, c.addr64, c.perVector)
		fn, cfg := scanOne(t, f)
		if err := fn.EnableMSI(cfg, c.msg, c.vectors); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for reg, v := range c.want {
			if got := cfg.Read32(off + reg); got&0xffff != v&0xffff || (reg != msiData32 && reg != msiData64 && got != v) {
				t.Errorf("%s: register %#x is %#x, want %#x", c.name, reg, got, v)
			}
		}
		if got := cfg.Read16(off + msiControl); got != c.wantCtrl {
			t.Errorf("%s: Message Control %#04x, want %#04x", c.name, got, c.wantCtrl)
		}
		fn.DisableMSI(cfg)
		if got := cfg.Read16(off + msiControl); got&msiEnable != 0 {
			t.Errorf("%s: Message Control %#04x after DisableMSI", c.name, got)
		}
	}
}

func TestEnableMSIErrors(t *testing.T) {
	f := newFn(0, 0x1f, 0, 0x8086, 0x2922, 0x01, 0x06, 0x01, 2)
	f.msi(2, false, false) // 4 vectors, 32-bit
	fn, cfg := scanOne(t, f)
	cases := []struct {
		name    string
		msg     Message
		vectors int
		want    string
	}{
		{"3 vectors", Message{0xfee00000, 0}, 3, "3 vectors asked for"},
		{"8 vectors", Message{0xfee00000, 0}, 8, "8 vectors asked for; capable of 4"},
		{"64-bit address", Message{0x1_fee0_0000, 0}, 1, "does not fit in 32 bits"},
		{"unaligned address", Message{0xfee00001, 0}, 1, "not dword-aligned"},
		{"data low bits set", Message{0xfee00000, 0x41}, 2, "low 1 bits clear"},
		{"data too wide", Message{0xfee00000, 0x10000}, 1, "not 16 bits"},
	}
	for _, c := range cases {
		err := fn.EnableMSI(cfg, c.msg, c.vectors)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
		if ctrl := cfg.Read16(fn.MSI.Offset + msiControl); ctrl&msiEnable != 0 {
			t.Errorf("%s: MSI enabled by a refused call", c.name)
		}
	}
	if err := (&Function{}).EnableMSI(cfg, Message{0xfee00000, 0}, 1); !errors.Is(err, ErrNotCapable) {
		t.Errorf("EnableMSI without MSI: %v, want ErrNotCapable", err)
	}
}
