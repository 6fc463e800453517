package pci

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestScanHostile feeds Scan functions that break the specifications and
// checks that each break is reported, that what it spoils is left out,
// and that nothing else is.
func TestScanHostile(t *testing.T) {
	cases := []struct {
		name string
		// setup changes a plain endpoint at 00:00.0 (01:00.0 if bus1).
		setup func(f *fakeFn)
		bus1  bool
		// sized, if set, is what BAR0 reads as while it holds all ones
		// (a device whose read-back disagrees with its BAR's value).
		sized uint32
		// problems are substrings of the problems expected, in order.
		problems []string
		check    func(t *testing.T, f Function)
	}{
		{
			name: "BAR size not a power of two",
			setup: func(f *fakeFn) {
				f.put32(RegBAR0, 0xfe000000)
				f.writable(RegBAR0, 4, 0xfff0c000)
			},
			problems: []string{"BAR0: size 0xf4000 is not a power of two"},
			check:    noBARs,
		},
		{
			name: "64-bit BAR in slot 5",
			setup: func(f *fakeFn) {
				f.put32(RegBAR0+20, 0xfe000000|barMemType64)
				f.writable(RegBAR0+20, 4, 0xffffc000)
			},
			problems: []string{"BAR5: 64-bit BAR in the last slot"},
			check:    noBARs,
		},
		{
			name: "64-bit BAR in a bridge's slot 1",
			setup: func(f *fakeFn) {
				f.bridge(0, 0, 0)
				f.put32(RegBAR0+4, 0xfe000000|barMemType64)
				f.writable(RegBAR0+4, 4, 0xffffc000)
			},
			problems: []string{"BAR1: 64-bit BAR in the last slot"},
			check:    noBARs,
		},
		{
			name: "reserved memory type",
			setup: func(f *fakeFn) {
				f.put32(RegBAR0, 0xfe000002)
				f.writable(RegBAR0, 4, 0xffffc000)
			},
			problems: []string{"BAR0: reserved memory type 0x1"},
			check:    noBARs,
		},
		{
			name: "type bits change when sized",
			setup: func(f *fakeFn) {
				f.put32(RegBAR0, 0xfe000000)
				f.writable(RegBAR0, 4, 0xffffc004)
			},
			problems: []string{"BAR0: read-only type bits changed"},
			check:    noBARs,
		},
		{
			name: "64-bit BAR with no writable bit",
			setup: func(f *fakeFn) {
				f.put32(RegBAR0, barMemType64)
			},
			problems: []string{"BAR0: no address bit is writable"},
			check:    noBARs,
		},
		{
			name: "I/O bit cleared when sized",
			setup: func(f *fakeFn) {
				f.put32(RegBAR0, 0xc000|barIO)
				f.writable(RegBAR0, 4, 0xffffffff)
			},
			sized:    0xffffff00,
			problems: []string{"BAR0: read-only I/O bit cleared"},
			check:    noBARs,
		},
		{
			name: "base not aligned to size",
			setup: func(f *fakeFn) {
				f.put32(RegBAR0, 0xfe001000)
				f.writable(RegBAR0, 4, 0xffffffff)
			},
			sized:    0xffffc000,
			problems: []string{"BAR0: base 0xfe001000 is not aligned to its size 0x4000"},
			check:    noBARs,
		},
		{
			name: "a bad BAR spoils only itself",
			setup: func(f *fakeFn) {
				f.put32(RegBAR0, 0xfe000002)
				f.mem32(1, 0xfebd0000, 4096, false)
			},
			problems: []string{"BAR0: reserved memory type"},
			check: func(t *testing.T, f Function) {
				want := []BAR{{Index: 1, Kind: BARMemory32, Base: 0xfebd0000, Size: 4096}}
				if d := cmp.Diff(want, f.BARs); d != "" {
					t.Errorf("BARs (-want +got):\n%s", d)
				}
			},
		},
		{
			name:     "interrupt pin out of range",
			setup:    func(f *fakeFn) { f.intPin(7) },
			problems: []string{"interrupt pin 7 is not 0-4"},
			check: func(t *testing.T, f Function) {
				if f.InterruptPin != 0 {
					t.Errorf("InterruptPin = %d, want 0", f.InterruptPin)
				}
			},
		},
		{
			name: "capability loop",
			setup: func(f *fakeFn) {
				f.addCap(0xff, 0, 0)
				b := f.addCap(0xfe, 0, 0)
				f.put8(b+1, capFirst)
			},
			problems: []string{"capability list loops back to 0x40"},
			check:    wantCaps(Capability{0xff, 0x40}, Capability{0xfe, 0x44}),
		},
		{
			name: "capability pointer into the header",
			setup: func(f *fakeFn) {
				f.addCap(0xff, 0, 0)
				f.put8(RegCapPtr, 0x20)
			},
			problems: []string{"capability pointer 0x20 points into the header"},
			check:    wantCaps(),
		},
		{
			name: "capability pointer low bits masked",
			setup: func(f *fakeFn) {
				f.addCap(0xff, 0, 0)
				f.put8(RegCapPtr, 0x43)
			},
			check: wantCaps(Capability{0xff, 0x40}),
		},
		{
			name: "capability list bit clear",
			setup: func(f *fakeFn) {
				f.addCap(0xff, 0, 0)
				f.put16(RegStatus, 0)
			},
			check: wantCaps(),
		},
		{
			name: "capability list through every slot and round again",
			setup: func(f *fakeFn) {
				for i := 0; i < maxCaps; i++ {
					f.addCap(0xff, 0, 0)
				}
				f.put8(0xfc+1, capFirst)
			},
			problems: []string{"capability list longer than 48 entries"},
			check: func(t *testing.T, f Function) {
				if len(f.Caps) != maxCaps {
					t.Errorf("%d capabilities, want %d", len(f.Caps), maxCaps)
				}
			},
		},
		{
			name: "MSI-X BIR reserved",
			setup: func(f *fakeFn) {
				f.mem32(0, 0xfebd0000, 4096, false)
				f.msix(4, 6, 0, 0, 0x100)
			},
			problems: []string{"MSI-X table BIR 6 is reserved"},
			check:    noMSIX,
		},
		{
			name: "MSI-X PBA BIR reserved",
			setup: func(f *fakeFn) {
				f.mem32(0, 0xfebd0000, 4096, false)
				f.msix(4, 0, 0, 7, 0x100)
			},
			problems: []string{"MSI-X PBA BIR 7 is reserved"},
			check:    noMSIX,
		},
		{
			name: "MSI-X table past the end of its BAR",
			setup: func(f *fakeFn) {
				f.mem32(0, 0xfebd0000, 4096, false)
				f.msix(256, 0, 0x800, 0, 0)
			},
			problems: []string{"MSI-X table (0x1000 bytes at 0x800) runs past the end of BAR0"},
			check:    noMSIX,
		},
		{
			name: "MSI-X table in an unimplemented BAR",
			setup: func(f *fakeFn) {
				f.mem32(0, 0xfebd0000, 4096, false)
				f.msix(1, 2, 0, 0, 0)
			},
			problems: []string{"MSI-X table is in BAR2, which is not a valid memory BAR"},
			check:    noMSIX,
		},
		{
			name: "MSI-X table in the upper half of a 64-bit BAR",
			setup: func(f *fakeFn) {
				f.mem64(0, 0xfebd0000, 16<<10, false)
				f.msix(1, 1, 0, 0, 0x1000)
			},
			problems: []string{"MSI-X table is in BAR1, which is not a valid memory BAR"},
			check:    noMSIX,
		},
		{
			name: "MSI-X table in an I/O BAR",
			setup: func(f *fakeFn) {
				f.io(0, 0xc000, 256)
				f.msix(1, 0, 0, 0, 0x80)
			},
			problems: []string{"MSI-X table is in BAR0, which is not a valid memory BAR"},
			check:    noMSIX,
		},
		{
			name: "MSI-X table and PBA overlap",
			setup: func(f *fakeFn) {
				f.mem32(0, 0xfebd0000, 4096, false)
				f.msix(4, 0, 0, 0, 0x20)
			},
			problems: []string{"MSI-X table 0x0+0x40 and PBA 0x20+0x8 overlap"},
			check:    noMSIX,
		},
		{
			name: "second MSI-X capability",
			setup: func(f *fakeFn) {
				f.mem32(0, 0xfebd0000, 4096, false)
				f.msix(4, 0, 0, 0, 0x800)
				f.msix(8, 0, 0, 0, 0x800)
			},
			problems: []string{"second MSI-X capability at 0x4c"},
			check: func(t *testing.T, f Function) {
				if f.MSIX == nil || f.MSIX.TableSize != 4 {
					t.Errorf("MSIX = %+v, want the first one's", f.MSIX)
				}
			},
		},
		{
			name:     "MSI reserved Multiple Message Capable",
			setup:    func(f *fakeFn) { f.msi(6, false, false) },
			problems: []string{"MSI capability at 0x40: reserved Multiple Message Capable 6"},
			check:    noMSI,
		},
		{
			name: "MSI capability runs past 0x100",
			setup: func(f *fakeFn) {
				f.nextCap = 0xf0
				f.msi(0, true, true)
			},
			problems: []string{"MSI capability at 0xf0: its 24 bytes run past 0x100"},
			check:    noMSI,
		},
		{
			name:     "vendor capability shorter than its header",
			setup:    func(f *fakeFn) { f.addCap(CapVendor, 2) },
			problems: []string{"vendor-specific capability at 0x40: length 2"},
			check:    noVendorCaps,
		},
		{
			name:     "vendor capability runs past 0x100",
			setup:    func(f *fakeFn) { f.addCap(CapVendor, 0xc4) },
			problems: []string{"vendor-specific capability at 0x40: its 196 bytes run past 0x100"},
			check:    noVendorCaps,
		},
		{
			name: "PCI Express capability version unknown",
			setup: func(f *fakeFn) {
				off := f.pcie(0, 0)
				f.put16(off+pcieCapsReg, 7)
			},
			problems: []string{"version 7 unknown"},
			check:    noPCIe,
		},
		{
			name:     "PCI Express Max_Payload_Size reserved",
			setup:    func(f *fakeFn) { f.pcie(0, 6) },
			problems: []string{"reserved Max_Payload_Size 6"},
			check:    noPCIe,
		},
		{
			name: "extended capability loop",
			setup: func(f *fakeFn) {
				f.pcie(0, 0)
				f.put32(0x100, 0x0001|1<<16|0x100<<20)
			},
			problems: []string{"extended capability list loops back to 0x100"},
			check:    wantExtCaps(ExtCapability{ID: 1, Version: 1, Offset: 0x100}),
		},
		{
			name: "extended capability pointer below 0x100",
			setup: func(f *fakeFn) {
				f.pcie(0, 0)
				f.put32(0x100, 0x0001|1<<16|0x040<<20)
			},
			problems: []string{"extended capability pointer 0x040 points below 0x100"},
			check:    wantExtCaps(ExtCapability{ID: 1, Version: 1, Offset: 0x100}),
		},
		{
			name: "extended capabilities without PCI Express are not read",
			setup: func(f *fakeFn) {
				f.put32(0x100, 0x0001|1<<16)
			},
			check: wantExtCaps(),
		},
		{
			name:     "bridge secondary bus above subordinate",
			setup:    func(f *fakeFn) { f.bridge(0, 5, 3) },
			problems: []string{"bridge secondary bus 0x05 is above its subordinate bus 0x03"},
			check:    noBridge,
		},
		{
			name:     "bridge secondary bus not above its own",
			setup:    func(f *fakeFn) { f.bridge(1, 1, 2) },
			bus1:     true,
			problems: []string{"bridge secondary bus 0x01 is not above its own bus 0x01"},
			check:    noBridge,
		},
		{
			name: "CardBus header",
			setup: func(f *fakeFn) {
				f.header(HeaderCardBus)
				f.mem32(0, 0xfebd0000, 4096, false)
			},
			problems: []string{"header type 0x02 not supported"},
			check:    noBARs,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bus := uint8(0)
			if c.bus1 {
				bus = 1
			}
			f := newFn(bus, 0, 0, 0x1b36, 0x0010, 0x01, 0x08, 0x02, 0)
			c.setup(f)
			e := newFakeECAM(t, bus, bus, f)
			if c.sized != 0 {
				e.regs.Read = func(off uint64, width int) (uint64, bool) {
					if off == RegBAR0 && width == 4 && e.regs.Load(off, 4) == 0xffffffff {
						return uint64(c.sized), true
					}
					return 0, false
				}
			}
			fns, err := Scan(e)
			if err != nil || len(fns) != 1 {
				t.Fatalf("Scan: %d functions, error %v; want 1, nil", len(fns), err)
			}
			got := fns[0]
			if len(got.Problems) != len(c.problems) {
				t.Errorf("problems %q, want ones containing %q", got.Problems, c.problems)
			} else {
				for i, p := range c.problems {
					if !strings.Contains(got.Problems[i], p) {
						t.Errorf("problem %d is %q, want it to contain %q", i, got.Problems[i], p)
					}
				}
			}
			if c.check != nil {
				c.check(t, got)
			}
		})
	}
}

func noBARs(t *testing.T, f Function) {
	if len(f.BARs) != 0 {
		t.Errorf("BARs = %+v, want none", f.BARs)
	}
}

func noMSIX(t *testing.T, f Function) {
	if f.MSIX != nil {
		t.Errorf("MSIX = %+v, want nil", f.MSIX)
	}
}

func noMSI(t *testing.T, f Function) {
	if f.MSI != nil {
		t.Errorf("MSI = %+v, want nil", f.MSI)
	}
}

func noPCIe(t *testing.T, f Function) {
	if f.PCIe != nil {
		t.Errorf("PCIe = %+v, want nil", f.PCIe)
	}
}

func noVendorCaps(t *testing.T, f Function) {
	if len(f.VendorCaps) != 0 {
		t.Errorf("VendorCaps = %+v, want none", f.VendorCaps)
	}
}

func noBridge(t *testing.T, f Function) {
	if f.Bridge != nil {
		t.Errorf("Bridge = %+v, want nil", f.Bridge)
	}
}

func wantCaps(want ...Capability) func(*testing.T, Function) {
	return func(t *testing.T, f Function) {
		if d := cmp.Diff(want, f.Caps); d != "" {
			t.Errorf("Caps (-want +got):\n%s", d)
		}
	}
}

func wantExtCaps(want ...ExtCapability) func(*testing.T, Function) {
	return func(t *testing.T, f Function) {
		if d := cmp.Diff(want, f.ExtCaps); d != "" {
			t.Errorf("ExtCaps (-want +got):\n%s", d)
		}
	}
}
