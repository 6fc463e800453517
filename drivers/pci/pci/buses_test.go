package pci

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/drivers/lib/dev"
)

// subRegs is the window [base, base+size) of regs.
type subRegs struct {
	regs       dev.Regs
	base, size uint64
}

func (s subRegs) Len() uint64                  { return s.size }
func (s subRegs) at(off uint64) uint64         { return s.base + off }
func (s subRegs) Read8(off uint64) uint8       { return s.regs.Read8(s.at(off)) }
func (s subRegs) Read16(off uint64) uint16     { return s.regs.Read16(s.at(off)) }
func (s subRegs) Read32(off uint64) uint32     { return s.regs.Read32(s.at(off)) }
func (s subRegs) Read64(off uint64) uint64     { return s.regs.Read64(s.at(off)) }
func (s subRegs) Write8(off uint64, v uint8)   { s.regs.Write8(s.at(off), v) }
func (s subRegs) Write16(off uint64, v uint16) { s.regs.Write16(s.at(off), v) }
func (s subRegs) Write32(off uint64, v uint32) { s.regs.Write32(s.at(off), v) }
func (s subRegs) Write64(off uint64, v uint64) { s.regs.Write64(s.at(off), v) }

func TestScanBridgesBusWindows(t *testing.T) {
	const first, last = 0, 7
	fns := []*fakeFn{
		newFn(0, 0, 0, 0x8086, 0x29c0, 0x06, 0x00, 0, 0),
		newFn(0, 0x1c, 0, 0x1b36, 0x000c, 0x06, 0x04, 0, 0).bridge(0, 2, 3),
		newFn(0, 0x1d, 0, 0x1b36, 0x000c, 0x06, 0x04, 0, 0).bridge(0, 6, 6),
		newFn(0, 0x1e, 0, 0x1b36, 0x000c, 0x06, 0x04, 0, 0).bridge(0, 0, 0), // not numbered
		newFn(1, 0, 0, 0x1af4, 0x1041, 0x02, 0x00, 0, 1),                    // behind no bridge: not found
		newFn(2, 0, 0, 0x1b36, 0x0010, 0x01, 0x08, 0x02, 2),
		newFn(3, 1, 0, 0x1af4, 0x1042, 0x01, 0x00, 0, 1),
	}
	e := newFakeECAM(t, first, last, fns...)
	openErr := errors.New("refused")
	var opened []uint8
	bw, err := NewBusWindows(first, last, func(bus uint8) (dev.Regs, error) {
		opened = append(opened, bus)
		if bus == 6 {
			return nil, openErr
		}
		return subRegs{e.regs, uint64(bus-first) << ecamBusShift, ECAMBusSize}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ScanBridges(bw)
	if err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for _, f := range got {
		addrs = append(addrs, f.Addr.String())
	}
	want := []string{"00:00.0", "00:1c.0", "00:1d.0", "00:1e.0", "02:00.0", "03:01.0"}
	if diff := cmp.Diff(want, addrs); diff != "" {
		t.Errorf("functions (-want +got)\n%s", diff)
	}
	if diff := cmp.Diff([]uint8{0, 2, 3, 6}, opened); diff != "" {
		t.Errorf("buses opened (-want +got)\n%s", diff)
	}
	if diff := cmp.Diff([]uint8{0, 2, 3}, bw.Opened()); diff != "" {
		t.Errorf("Opened (-want +got)\n%s", diff)
	}
	if err := bw.Err(6); !errors.Is(err, openErr) {
		t.Errorf("Err(6) = %v, want the open error", err)
	}
	if err := bw.Err(2); err != nil {
		t.Errorf("Err(2) = %v", err)
	}
	// A failed bus reads as absent and ignores writes, without opening again.
	c := bw.Function(6, 0, 0)
	c.Write16(RegCommand, 0)
	if v := c.Read32(RegVendor); v != 0xffffffff {
		t.Errorf("failed bus reads %#x, want all ones", v)
	}
	if len(opened) != 4 {
		t.Errorf("bus 6 opened again: %v", opened)
	}
}

func TestBusWindowsSmallWindow(t *testing.T) {
	bw, err := NewBusWindows(0, 0, func(uint8) (dev.Regs, error) { return subRegs{nil, 0, 4096}, nil })
	if err != nil {
		t.Fatal(err)
	}
	fns, err := ScanBridges(bw)
	if err != nil || len(fns) != 0 {
		t.Errorf("ScanBridges over a too small window: %d functions, error %v", len(fns), err)
	}
	if bw.Err(0) == nil {
		t.Error("a window smaller than a bus was accepted")
	}
	if _, err := NewBusWindows(3, 2, nil); err == nil {
		t.Error("an empty bus range was accepted")
	}
}

func TestBusWindowsOutOfRangePanics(t *testing.T) {
	bw, _ := NewBusWindows(1, 2, func(uint8) (dev.Regs, error) { return nil, errors.New("x") })
	for _, a := range []Address{{0, 0, 0}, {3, 0, 0}, {1, 32, 0}, {1, 0, 8}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Function(%v) did not panic", a)
				}
			}()
			bw.Function(a.Bus, a.Device, a.Function)
		}()
	}
	defer func() {
		if recover() == nil {
			t.Error("a read past 4095 of an absent function did not panic")
		}
	}()
	bw.Function(1, 0, 0).Read32(4094)
}
