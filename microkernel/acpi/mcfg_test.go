package acpi

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// mcfgEntry encodes one configuration space allocation.
func mcfgEntry(base uint64, seg uint16, start, end uint8) []byte {
	b := le.AppendUint64(nil, base)
	b = le.AppendUint16(b, seg)
	return append(b, start, end, 0, 0, 0, 0)
}

func mcfgTable(entries ...[]byte) []byte {
	body := make([]byte, 8)
	for _, e := range entries {
		body = append(body, e...)
	}
	return sdt("MCFG", 1, body)
}

func TestParseMCFG(t *testing.T) {
	tests := []struct {
		name string
		tbl  []byte
		want *MCFG
		err  error
	}{
		{"qemu q35", mcfgTable(mcfgEntry(0xb0000000, 0, 0, 255)),
			&MCFG{Windows: []ECAMWindow{{Base: 0xb0000000, EndBus: 255}}}, nil},
		{"two segments", mcfgTable(mcfgEntry(0xe0000000, 0, 0, 63), mcfgEntry(0x4_0000_0000, 1, 16, 31)),
			&MCFG{Windows: []ECAMWindow{{Base: 0xe0000000, EndBus: 63}, {Base: 0x4_0000_0000, Segment: 1, StartBus: 16, EndBus: 31}}}, nil},
		{"none", mcfgTable(), &MCFG{}, nil},
		{"reversed buses", mcfgTable(mcfgEntry(0xb0000000, 0, 9, 3)), nil, ErrMalformed},
		{"unaligned base", mcfgTable(mcfgEntry(0xb0001000, 0, 0, 1)), nil, ErrMalformed},
		{"zero base", mcfgTable(mcfgEntry(0, 0, 0, 1)), nil, ErrMalformed},
		{"wraps", mcfgTable(mcfgEntry(0xffff_ffff_fff0_0000, 0, 0, 255)), nil, ErrMalformed},
		{"partial entry", sdt("MCFG", 1, append(make([]byte, 8), 1, 2, 3)), nil, ErrMalformed},
		{"wrong signature", sdt("APIC", 1, make([]byte, 8)), nil, ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMCFG(tt.tbl)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestECAMWindowSize(t *testing.T) {
	if got := (ECAMWindow{StartBus: 0, EndBus: 255}).Size(); got != 256<<20 {
		t.Errorf("Size = %#x", got)
	}
}

func FuzzMCFG(f *testing.F) {
	f.Add(mcfgTable(mcfgEntry(0xb0000000, 0, 0, 255)))
	f.Add(mcfgTable(mcfgEntry(0xb0000000, 0, 7, 3)))
	f.Fuzz(func(t *testing.T, tbl []byte) {
		m, err := ParseMCFG(tbl)
		if err != nil {
			if m != nil {
				t.Fatal("result with error")
			}
			return
		}
		for _, w := range m.Windows {
			if w.EndBus < w.StartBus || w.Base&(1<<20-1) != 0 || w.Base+w.Size() < w.Base {
				t.Fatalf("accepted a bad window %+v", w)
			}
		}
	})
}
