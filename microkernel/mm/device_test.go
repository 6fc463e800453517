package mm

import (
	"strings"
	"testing"

	"valence.dev/microkernel/multiboot"
)

func TestCheckDeviceRange(t *testing.T) {
	saved, savedN := forbidden, nforbidden
	defer func() { forbidden, nforbidden = saved, savedN }()
	nforbidden = 0
	var info multiboot.Info
	info.Regions[0] = multiboot.Region{Base: 0, Len: 0x9fc00, Type: multiboot.TypeAvailable}
	info.Regions[1] = multiboot.Region{Base: 0x100000, Len: 0x3fee0000, Type: multiboot.TypeAvailable}
	info.Regions[2] = multiboot.Region{Base: 0x3ffe0000, Len: 0x20000, Type: multiboot.TypeReserved}
	info.Regions[3] = multiboot.Region{Base: 0x7ffe0000, Len: 0x1000, Type: multiboot.TypeACPIReclaimable}
	info.NRegions = 4
	noteRAM(&info)
	ClaimDevice(0xfee00000, 4096, "the local APIC")
	tests := []struct {
		name       string
		pa, size   uint64
		wantReason string // "" means allowed
	}{
		{"ECAM", 0xb0000000, 1 << 20, ""},
		{"reserved firmware range", 0x3ffe0000, 0x20000, ""},
		{"a BAR high up", 0xfe000000, 0x4000, ""},
		{"RAM", 0x200000, 4096, "RAM"},
		{"straddling RAM's end", 0x3ffdf000, 0x2000, "RAM"},
		{"ACPI tables", 0x7ffe0000, 4096, "RAM"},
		{"low memory", 0xa0000, 0x20000, "first megabyte"},
		{"the local APIC", 0xfee00000, 4096, "local APIC"},
		{"unaligned", 0xb0000800, 4096, "whole pages"},
		{"empty", 0xb0000000, 0, "whole pages"},
		{"wrapping", ^uint64(0) &^ 0xfff, 0x2000, "outside"},
		{"past 2^52", 1 << 52, 4096, "outside"},
	}
	for _, tt := range tests {
		err := CheckDeviceRange(tt.pa, tt.size)
		switch {
		case tt.wantReason == "" && err != nil:
			t.Errorf("%s: refused: %v", tt.name, err)
		case tt.wantReason != "" && (err == nil || !strings.Contains(err.Error(), tt.wantReason)):
			t.Errorf("%s: %v, want a refusal naming %q", tt.name, err, tt.wantReason)
		}
	}
}
