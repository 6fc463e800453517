package pci

import (
	"errors"
	"testing"

	"valence.dev/drivers/lib/devtest"
)

func TestEnableMSIXMasked(t *testing.T) {
	fn, cfg, bar := nvmeWithMSIX(t)
	// A previous owner left MSI on and entries 0 and 5 unmasked.
	cfg.Write16(fn.MSI.Offset+msiControl, msiEnable)
	bar.Store(0x2000+12, 4, 0)
	bar.Store(0x2000+5*16+12, 4, 0x0)
	bar.Store(0x2000+3*16+12, 4, 0x80000001) // a reserved bit to keep
	bar.Write = func(off uint64, width int, v uint64) {
		ctrl := cfg.Read16(fn.MSIX.Offset + msixControl)
		if ctrl&msixFunctionMask == 0 || ctrl&msixEnable == 0 {
			t.Errorf("table written at %#x with Message Control %#04x: want Enable and Function Mask set", off, ctrl)
		}
	}
	if err := fn.EnableMSIXMasked(cfg, bar); err != nil {
		t.Fatal(err)
	}
	bar.Write = nil
	for i := 0; i < 8; i++ {
		want := uint64(1)
		if i == 3 {
			want = 0x80000001
		}
		if got := bar.Load(uint64(0x2000+16*i+12), 4); got != want {
			t.Errorf("entry %d: vector control %#x, want %#x", i, got, want)
		}
	}
	if ctrl := cfg.Read16(fn.MSIX.Offset + msixControl); ctrl&(msixEnable|msixFunctionMask) != msixEnable {
		t.Errorf("Message Control %#04x: want Enable without Function Mask", ctrl)
	}
	if ctrl := cfg.Read16(fn.MSI.Offset + msiControl); ctrl&msiEnable != 0 {
		t.Errorf("MSI still enabled (control %#04x) with MSI-X on", ctrl)
	}
}

func TestEnableMSIXMaskedErrors(t *testing.T) {
	fn, cfg, _ := nvmeWithMSIX(t)
	small := devtest.NewRegs(0x2000) // ends where the table starts
	small.Write = func(off uint64, width int, v uint64) { t.Errorf("write at %#x into a window refused", off) }
	if err := fn.EnableMSIXMasked(cfg, small); err == nil {
		t.Error("a window without the table was accepted")
	}
	if ctrl := cfg.Read16(fn.MSIX.Offset + msixControl); ctrl&msixEnable != 0 {
		t.Errorf("MSI-X enabled (%#04x) after a refusal", ctrl)
	}
	noMSIX := &Function{}
	if err := noMSIX.EnableMSIXMasked(cfg, small); !errors.Is(err, ErrNotCapable) {
		t.Errorf("no MSI-X capability: error %v, want ErrNotCapable", err)
	}
}
