package proc

import (
	"strings"
	"testing"
)

func TestCheckPorts(t *testing.T) {
	tests := []struct {
		base, count uint64
		want        string // "" means allowed
	}{
		{0x2F8, 8, ""},             // COM2
		{0x1F0, 8, ""},             // the primary ATA channel
		{0x3F8, 8, "COM1"},         // the console
		{0x3F0, 9, "COM1"},         // a range running into it
		{0x3FF, 1, "COM1"},         // its last port
		{0x400, 16, ""},            // just past it
		{0x20, 1, "PIC"},           // master PIC
		{0xA1, 1, "PIC"},           // slave PIC
		{0x43, 1, "PIT"},           // PIT command
		{0x70, 2, "CMOS"},          // the clock
		{0xF4, 1, "debug exit"},    // QEMU's
		{0xCFC, 4, "PCI"},          // configuration data
		{0, 0, "not a range"},      // empty
		{0xFFFF, 2, "not a range"}, // past the last port
		{0x10000, 1, "not a range"},
		{0x604, 2, "power-off"}, // ACPI PM1a control
		{0x600, 5, "power-off"}, // a range ending on it
		{0x605, 1, "power-off"}, // its high byte
		{0x606, 2, ""},          // just past it
		{0x5F0, 16, ""},         // clear of it
	}
	for _, tt := range tests {
		err := checkPorts(tt.base, tt.count, []uint16{0x604})
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("ports %#x+%d refused: %v", tt.base, tt.count, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("ports %#x+%d: %v, want a refusal naming %q", tt.base, tt.count, err, tt.want)
		}
	}
}
