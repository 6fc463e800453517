package pcidev

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/drivers/lib/devtest"
)

// config returns a configuration space with a capability list linked as
// given: each entry is {offset, id, next}.
func config(caps ...[3]uint8) *devtest.Regs {
	r := devtest.NewRegs(4096)
	if len(caps) > 0 {
		r.Store(0x06, 2, 1<<4)
		r.Store(0x34, 1, uint64(caps[0][0]))
	}
	for _, c := range caps {
		r.Store(uint64(c[0]), 1, uint64(c[1]))
		r.Store(uint64(c[0])+1, 1, uint64(c[2]))
	}
	return r
}

func TestCaps(t *testing.T) {
	tests := []struct {
		name string
		cfg  *devtest.Regs
		want []uint16
	}{
		{"none", config(), nil},
		{"one", config([3]uint8{0x40, CapMSIX, 0}), []uint16{0x40}},
		{"among others", config([3]uint8{0x40, 0x01, 0x50}, [3]uint8{0x50, CapVendor, 0x60}, [3]uint8{0x60, CapVendor, 0}), []uint16{0x50, 0x60}},
		{"a loop is cut", config([3]uint8{0x40, CapVendor, 0x50}, [3]uint8{0x50, CapVendor, 0x40}), nil},
		{"pointer into the header ends the list", config([3]uint8{0x40, CapVendor, 0x10}), []uint16{0x40}},
		{"low bits ignored", config([3]uint8{0x40, 0x01, 0x53}, [3]uint8{0x50, CapVendor, 0}), []uint16{0x50}},
	}
	for _, tt := range tests {
		got := Caps(tt.cfg, CapVendor)
		if tt.name == "one" {
			got = Caps(tt.cfg, CapMSIX)
		}
		if tt.name == "a loop is cut" {
			if len(got) != 48 {
				t.Errorf("%s: %d entries, want the walk cut at 48", tt.name, len(got))
			}
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, diff)
		}
	}
}

func TestReadMSIX(t *testing.T) {
	cfg := config([3]uint8{0x40, CapMSIX, 0})
	cfg.Store(0x42, 2, 64)       // 65 entries
	cfg.Store(0x44, 4, 0x2000|0) // BAR 0 at 0x2000
	m, err := ReadMSIX(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(MSIX{Cap: 0x40, TableSize: 65, BIR: 0, TableOffset: 0x2000}, m); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	cfg.Store(0x44, 4, 0x2000|6)
	if _, err := ReadMSIX(cfg); err == nil {
		t.Error("a table in BAR 6 was accepted")
	}
	if _, err := ReadMSIX(config()); err == nil {
		t.Error("no capability, no error")
	}
}
