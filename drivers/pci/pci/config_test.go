package pci

import (
	"testing"

	"valence.dev/drivers/lib/devtest"
)

func TestECAMOffsets(t *testing.T) {
	regs := devtest.NewRegs(2 * ECAMBusSize)
	e, err := NewECAM(regs, 0x10, 0x11)
	if err != nil {
		t.Fatal(err)
	}
	if first, last := e.Buses(); first != 0x10 || last != 0x11 {
		t.Errorf("Buses() = %#x, %#x, want 0x10, 0x11", first, last)
	}
	cases := []struct {
		bus, dev, fn uint8
		reg          uint16
		want         uint64
	}{
		{0x10, 0, 0, 0x000, 0},
		{0x10, 0, 0, 0xffc, 0xffc},
		{0x10, 0, 1, 0x010, 1<<12 | 0x10},
		{0x10, 31, 7, 0x100, 31<<15 | 7<<12 | 0x100},
		{0x11, 4, 2, 0x3c, 1<<20 | 4<<15 | 2<<12 | 0x3c},
	}
	for _, c := range cases {
		e.Function(c.bus, c.dev, c.fn).Write32(c.reg, 0xa5a5a5a5)
		if got := regs.Load(c.want, 4); got != 0xa5a5a5a5 {
			t.Errorf("%02x:%02x.%x reg %#x: not written at window offset %#x", c.bus, c.dev, c.fn, c.reg, c.want)
		}
		regs.Store(c.want, 4, 0x11223344)
		c32 := e.Function(c.bus, c.dev, c.fn)
		if v8, v16, v32 := c32.Read8(c.reg+1), c32.Read16(c.reg+2), c32.Read32(c.reg); v8 != 0x33 || v16 != 0x1122 || v32 != 0x11223344 {
			t.Errorf("%02x:%02x.%x reg %#x: read %#x %#x %#x, want 0x33 0x1122 0x11223344", c.bus, c.dev, c.fn, c.reg, v8, v16, v32)
		}
	}
}

func TestNewECAMErrors(t *testing.T) {
	if _, err := NewECAM(devtest.NewRegs(ECAMBusSize), 1, 0); err == nil {
		t.Error("NewECAM with first > last: no error")
	}
	if _, err := NewECAM(devtest.NewRegs(ECAMBusSize), 0, 1); err == nil {
		t.Error("NewECAM with a window too small for two buses: no error")
	}
}

// TestECAMMisuse checks that a caller's bug panics rather than reaching
// another function's registers.
func TestECAMMisuse(t *testing.T) {
	e, err := NewECAM(devtest.NewRegs(ECAMBusSize), 5, 5)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		f    func()
	}{
		{"bus below the window", func() { e.Function(4, 0, 0) }},
		{"bus above the window", func() { e.Function(6, 0, 0) }},
		{"device 32", func() { e.Function(5, 32, 0) }},
		{"function 8", func() { e.Function(5, 0, 8) }},
		{"offset 4096", func() { e.Function(5, 0, 0).Read8(4096) }},
		{"dword past the end", func() { e.Function(5, 0, 0).Read32(4094) }},
		{"unaligned word", func() { e.Function(5, 0, 0).Write16(1, 0) }},
		{"unaligned dword", func() { e.Function(5, 0, 0).Read32(2) }},
	}
	for _, c := range cases {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", c.name)
				}
			}()
			c.f()
		}()
	}
}

func TestCommandHelpers(t *testing.T) {
	cases := []struct {
		name string
		do   func(Config)
		from uint16
		want uint16
	}{
		{"EnableMemory", EnableMemory, 0x0400, 0x0402},
		{"EnableIO", EnableIO, 0x0000, 0x0001},
		{"EnableBusMaster", EnableBusMaster, 0x0002, 0x0006},
		{"DisableINTx", DisableINTx, 0x0007, 0x0407},
		{"SetCommand", func(c Config) { SetCommand(c, CmdBusMaster, CmdIO) }, 0x0003, 0x0006},
	}
	for _, c := range cases {
		f := newFn(0, 0, 0, 0x8086, 0x1234, 0, 0, 0, 0)
		f.put16(RegCommand, c.from)
		e := newFakeECAM(t, 0, 0, f) // fails the test if Status is written
		cfg := e.Function(0, 0, 0)
		c.do(cfg)
		if got := cfg.Read16(RegCommand); got != c.want {
			t.Errorf("%s: Command %#04x became %#04x, want %#04x", c.name, c.from, got, c.want)
		}
	}
}
