package virtio

import (
	"encoding/binary"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/drivers/lib/devtest"
)

// rawCap builds a virtio_pci_cap's bytes.
func rawCap(typ CapType, bar uint8, off, n uint32, extra ...uint32) []byte {
	b := make([]byte, 16+4*len(extra))
	b[0], b[2], b[3], b[4] = 0x09, byte(len(b)), byte(typ), bar
	binary.LittleEndian.PutUint32(b[8:], off)
	binary.LittleEndian.PutUint32(b[12:], n)
	for i, e := range extra {
		binary.LittleEndian.PutUint32(b[16+4*i:], e)
	}
	return b
}

func TestParseCap(t *testing.T) {
	long := append(rawCap(CapCommon, 2, 0x100, 0x38), 0xaa, 0xbb) // cap_len still 16
	longLen := append(rawCap(CapISR, 1, 0, 1), 0, 0, 0, 0)
	longLen[2] = 20
	shm := rawCap(CapSharedMemory, 0, 0x1000, 0x2000, 0x1, 0x2)
	for _, c := range []struct {
		name string
		raw  []byte
		want Cap
		ok   bool
	}{
		{"common", rawCap(CapCommon, 4, 0, 0x1000), Cap{Type: CapCommon, BAR: 4, Length: 0x1000}, true},
		{"notify", rawCap(CapNotify, 4, 0x3000, 0x1000, 4), Cap{Type: CapNotify, BAR: 4, Offset: 0x3000, Length: 0x1000, NotifyOffMultiplier: 4}, true},
		{"bytes past cap_len ignored", long, Cap{Type: CapCommon, BAR: 2, Offset: 0x100, Length: 0x38}, true},
		{"longer cap_len accepted", longLen, Cap{Type: CapISR, BAR: 1, Length: 1}, true},
		{"shared memory 64-bit", shm, Cap{Type: CapSharedMemory, Offset: 0x1_0000_1000, Length: 0x2_0000_2000}, true},
		{"reserved type parsed", rawCap(77, 0, 0, 0), Cap{Type: 77}, true},
		{"too short", rawCap(CapCommon, 0, 0, 0)[:15], Cap{}, false},
		{"not vendor-specific", append([]byte{0x05}, rawCap(CapCommon, 0, 0, 0)[1:]...), Cap{}, false},
		{"cap_len too small", func() []byte { b := rawCap(CapCommon, 0, 0, 0); b[2] = 8; return b }(), Cap{}, false},
		{"cap_len past bytes", func() []byte { b := rawCap(CapCommon, 0, 0, 0); b[2] = 40; return b }(), Cap{}, false},
		{"notify without multiplier", rawCap(CapNotify, 0, 0, 2), Cap{}, false},
		{"shared memory without hi", rawCap(CapSharedMemory, 0, 0, 2), Cap{}, false},
	} {
		got, err := ParseCap(c.raw)
		if (err == nil) != c.ok {
			t.Errorf("%s: ParseCap error %v, want ok=%v", c.name, err, c.ok)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s: ParseCap (-want +got):\n%s", c.name, diff)
		}
	}
}

func TestParseLayout(t *testing.T) {
	common := rawCap(CapCommon, 4, 0, 0x1000)
	isr := rawCap(CapISR, 4, 0x1000, 0x1000)
	dev := rawCap(CapDevice, 4, 0x2000, 0x1000)
	notify := rawCap(CapNotify, 4, 0x3000, 0x1000, 4)
	qemu := Layout{
		Common: Cap{Type: CapCommon, BAR: 4, Length: 0x1000},
		ISR:    Cap{Type: CapISR, BAR: 4, Offset: 0x1000, Length: 0x1000},
		Device: Cap{Type: CapDevice, BAR: 4, Offset: 0x2000, Length: 0x1000}, HasDevice: true,
		Notify: Cap{Type: CapNotify, BAR: 4, Offset: 0x3000, Length: 0x1000, NotifyOffMultiplier: 4},
	}
	noDev := qemu
	noDev.Device, noDev.HasDevice = Cap{}, false
	for _, c := range []struct {
		name string
		caps [][]byte
		want Layout
		ok   bool
	}{
		{"qemu", [][]byte{common, isr, dev, notify, rawCap(CapPCI, 0, 0, 0, 0)}, qemu, true},
		{"first of each type wins", [][]byte{common, isr, dev, notify, rawCap(CapCommon, 2, 0, 0x1000)}, qemu, true},
		{"reserved bar skipped", [][]byte{rawCap(CapCommon, 6, 0, 0x1000), common, isr, dev, notify}, qemu, true},
		{"bad multiplier skipped", [][]byte{common, isr, dev, rawCap(CapNotify, 4, 0, 0x1000, 3), notify}, qemu, true},
		{"garbage skipped", [][]byte{{0x09}, {}, common, isr, dev, notify}, qemu, true},
		{"no device config", [][]byte{common, isr, notify}, noDev, true},
		{"no common", [][]byte{isr, dev, notify}, Layout{}, false},
		{"no notify", [][]byte{common, isr, dev}, Layout{}, false},
		{"no isr", [][]byte{common, dev, notify}, Layout{}, false},
		{"common too short", [][]byte{rawCap(CapCommon, 4, 0, 0x20), isr, notify}, Layout{}, false},
		{"none", nil, Layout{}, false},
	} {
		got, err := ParseLayout(c.caps)
		if (err == nil) != c.ok {
			t.Errorf("%s: ParseLayout error %v, want ok=%v", c.name, err, c.ok)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s: ParseLayout (-want +got):\n%s", c.name, diff)
		}
	}
}

// FuzzParseCap feeds hostile capability bytes: parsing must never panic,
// and what it accepts must be within what the bytes can say.
func FuzzParseCap(f *testing.F) {
	f.Add(rawCap(CapNotify, 4, 0x3000, 0x1000, 4))
	f.Add(rawCap(CapSharedMemory, 0, 1, 2, 3, 4))
	f.Add([]byte{0x09, 0, 0xff, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCap(b)
		if err != nil {
			return
		}
		if len(b) < 16 || int(b[2]) > len(b) || b[0] != 0x09 {
			t.Fatalf("accepted %x as %+v", b, c)
		}
		if c.Type != CapSharedMemory && (c.Offset > 0xffffffff || c.Length > 0xffffffff) {
			t.Fatalf("32-bit capability %x parsed with 64-bit fields %+v", b, c)
		}
		l, err := ParseLayout([][]byte{b, b, b})
		if err == nil && (l.Common.BAR > 5 || l.Common.Length < commonMinLen) {
			t.Fatalf("layout %+v from %x", l, b)
		}
	})
}

func TestCapBytes(t *testing.T) {
	cfg := devtest.NewRegs(256)
	put := func(off int, b []byte) {
		for i, v := range b {
			cfg.Store(uint64(off+i), 1, uint64(v))
		}
	}
	notify := rawCap(CapNotify, 4, 0x3000, 0x1000, 4)
	put(0x40, notify)
	put(0x60, rawCap(CapCommon, 4, 0, 0x1000))
	put(0xf8, []byte{0x09, 0, 16, 1}) // runs past the end of the space
	got := CapBytes(cfg, []uint16{0x40, 0x60, 0xf8, 0xff})
	want := [][]byte{notify, rawCap(CapCommon, 4, 0, 0x1000), {0x09, 0, 16, 1, 0, 0, 0, 0}, nil}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CapBytes (-want +got):\n%s", diff)
	}
	if _, err := ParseCap(got[2]); err == nil {
		t.Error("a capability cut short by the end of configuration space parsed")
	}
}
