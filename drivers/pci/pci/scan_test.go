package pci

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// q35 models the functions QEMU's q35 machine shows with an NVMe disk on
// the root bus and a modern virtio-net behind a PCI Express root port,
// and returns what Scan should report for them.
func q35() ([]*fakeFn, []Function) {
	var fns []*fakeFn
	var want []Function
	add := func(f *fakeFn, w Function) {
		fns = append(fns, f)
		w.Addr = f.addr
		w.Vendor = binary.LittleEndian.Uint16(f.cfg[RegVendor:])
		w.Device = binary.LittleEndian.Uint16(f.cfg[RegDevice:])
		w.Class, w.Subclass, w.ProgIF, w.Revision = f.cfg[RegClass], f.cfg[RegSubclass], f.cfg[RegProgIF], f.cfg[RegRevision]
		w.InterruptPin = f.cfg[RegIntPin]
		if f.cfg[RegHeaderType] == HeaderNormal|headerMulti {
			w.Multifunction = true
		}
		if f.cfg[RegHeaderType]&^headerMulti == HeaderNormal {
			w.SubsystemVendor, w.Subsystem = 0x1af4, 0x1100
		}
		want = append(want, w)
	}

	add(newFn(0, 0, 0, 0x8086, 0x29c0, 0x06, 0x00, 0, 0).subsystem(0x1af4, 0x1100), Function{})

	add(newFn(0, 1, 0, 0x1234, 0x1111, 0x03, 0x00, 0, 2).subsystem(0x1af4, 0x1100).
		mem32(0, 0xfd000000, 16<<20, true).mem32(2, 0xfebd4000, 4096, false),
		Function{BARs: []BAR{
			{Index: 0, Kind: BARMemory32, Prefetchable: true, Base: 0xfd000000, Size: 16 << 20},
			{Index: 2, Kind: BARMemory32, Base: 0xfebd4000, Size: 4096},
		}})

	rp := newFn(0, 2, 0, 0x1b36, 0x000c, 0x06, 0x04, 0, 0).bridge(0, 1, 1).
		mem32(0, 0xfebd5000, 4096, false).intPin(1)
	rpPCIe := rp.pcie(4, 1)
	add(rp, Function{
		HeaderType: HeaderBridge,
		BARs:       []BAR{{Index: 0, Kind: BARMemory32, Base: 0xfebd5000, Size: 4096}},
		Caps:       []Capability{{CapPCIe, rpPCIe}},
		PCIe:       &PCIe{Offset: rpPCIe, Version: 2, PortType: 4, MaxPayload: 256, LinkSpeed: 1, LinkWidth: 1},
		Bridge:     &Bridge{Primary: 0, Secondary: 1, Subordinate: 1},
	})

	nvme := newFn(0, 4, 0, 0x1b36, 0x0010, 0x01, 0x08, 0x02, 2).subsystem(0x1af4, 0x1100).
		mem64(0, 0xfebd0000, 16<<10, false).intPin(1)
	pm := nvme.addCap(CapPM, le(uint16(0x0003), uint16(0x0008), uint16(0))...)
	nvmeMSIX := nvme.msix(65, 0, 0x2000, 0, 0x3000)
	nvmePCIe := nvme.pcie(0, 0)
	add(nvme, Function{
		BARs: []BAR{{Index: 0, Kind: BARMemory64, Base: 0xfebd0000, Size: 16 << 10}},
		Caps: []Capability{{CapPM, pm}, {CapMSIX, nvmeMSIX}, {CapPCIe, nvmePCIe}},
		MSIX: &MSIX{Offset: nvmeMSIX, TableSize: 65, TableBIR: 0, TableOffset: 0x2000, PBABIR: 0, PBAOffset: 0x3000},
		PCIe: &PCIe{Offset: nvmePCIe, Version: 2, PortType: 0, MaxPayload: 128, LinkSpeed: 1, LinkWidth: 1},
	})

	// The ICH9 functions of device 1f: a multifunction device with a
	// gap at function 1.
	add(newFn(0, 0x1f, 0, 0x8086, 0x2918, 0x06, 0x01, 0, 2).header(headerMulti).subsystem(0x1af4, 0x1100), Function{})
	sata := newFn(0, 0x1f, 2, 0x8086, 0x2922, 0x01, 0x06, 0x01, 2).subsystem(0x1af4, 0x1100).
		io(4, 0xc040, 32).mem32(5, 0xfebd6000, 4096, false).intPin(1)
	sataMSI := sata.msi(2, true, true)
	add(sata, Function{
		BARs: []BAR{
			{Index: 4, Kind: BARIO, Base: 0xc040, Size: 32},
			{Index: 5, Kind: BARMemory32, Base: 0xfebd6000, Size: 4096},
		},
		Caps: []Capability{{CapMSI, sataMSI}},
		MSI:  &MSI{Offset: sataMSI, Addr64: true, PerVectorMask: true, Vectors: 4},
	})
	add(newFn(0, 0x1f, 3, 0x8086, 0x2930, 0x0c, 0x05, 0, 2).subsystem(0x1af4, 0x1100).io(4, 0x0700, 64).intPin(1),
		Function{BARs: []BAR{{Index: 4, Kind: BARIO, Base: 0x0700, Size: 64}}})

	// virtio-net, modern only (virtio 1.1 §4.1.2), behind the root port.
	vn := newFn(1, 0, 0, 0x1af4, 0x1041, 0x02, 0x00, 0, 1).subsystem(0x1af4, 0x1100).
		mem32(1, 0xfe840000, 4096, false).mem64(4, 0x800000000, 16<<10, true).intPin(1)
	vnMSIX := vn.msix(3, 1, 0, 1, 0x800)
	vcaps := []VendorCap{
		vn.virtio(1, 4, 0x0000, 0x1000),                   // common configuration
		vn.virtio(3, 4, 0x1000, 0x1000),                   // ISR status
		vn.virtio(4, 4, 0x2000, 0x1000),                   // device configuration
		vn.virtio(2, 4, 0x3000, 0x1000, le(uint32(4))...), // notifications, multiplier 4
		vn.virtio(5, 0, 0, 0, le(uint32(0))...),           // PCI configuration access
	}
	vnPCIe := vn.pcie(0, 0)
	for i, v := range vcaps { // now that their next pointers are set
		vcaps[i].Data = append([]byte(nil), vn.cfg[v.Offset:int(v.Offset)+len(v.Data)]...)
	}
	vn.put32(0x100, 0x0001|2<<16|0x148<<20) // AER, then
	vn.put32(0x148, 0x0003|1<<16)           // Device Serial Number, last
	caps := []Capability{{CapMSIX, vnMSIX}}
	for _, v := range vcaps {
		caps = append(caps, Capability{CapVendor, v.Offset})
	}
	add(vn, Function{
		BARs: []BAR{
			{Index: 1, Kind: BARMemory32, Base: 0xfe840000, Size: 4096},
			{Index: 4, Kind: BARMemory64, Prefetchable: true, Base: 0x800000000, Size: 16 << 10},
		},
		Caps:       append(caps, Capability{CapPCIe, vnPCIe}),
		ExtCaps:    []ExtCapability{{ID: 1, Version: 2, Offset: 0x100}, {ID: 3, Version: 1, Offset: 0x148}},
		MSIX:       &MSIX{Offset: vnMSIX, TableSize: 3, TableBIR: 1, TableOffset: 0, PBABIR: 1, PBAOffset: 0x800},
		PCIe:       &PCIe{Offset: vnPCIe, Version: 2, MaxPayload: 128, LinkSpeed: 1, LinkWidth: 1},
		VendorCaps: vcaps,
	})
	return fns, want
}

func TestScanQ35(t *testing.T) {
	fns, want := q35()
	e := newFakeECAM(t, 0, 1, fns...)
	before := e.snapshot()
	got, err := Scan(e)
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Scan mismatch (-want +got):\n%s", d)
	}
	// Sizing wrote every BAR and the Command register: all must be back.
	after := e.snapshot()
	for page, b := range before {
		if !bytes.Equal(b, after[page]) {
			for i := range b {
				if b[i] != after[page][i] {
					t.Errorf("%v: config byte %#x was %#02x before Scan, %#02x after", e.fns[page].addr, i, b[i], after[page][i])
				}
			}
		}
	}
}

func TestScanVirtioCapsDecode(t *testing.T) {
	fns, _ := q35()
	got, err := Scan(newFakeECAM(t, 0, 1, fns...))
	if err != nil {
		t.Fatal(err)
	}
	vn := got[len(got)-1]
	// What a virtio driver does with them (virtio 1.1 §4.1.4): find the
	// notify structure, its BAR, offset and multiplier.
	var found bool
	for _, v := range vn.VendorCaps {
		if v.Data[3] != 2 || len(v.Data) < 20 {
			continue
		}
		found = true
		bar, off := v.Data[4], binary.LittleEndian.Uint32(v.Data[8:])
		mult := binary.LittleEndian.Uint32(v.Data[16:])
		if bar != 4 || off != 0x3000 || mult != 4 {
			t.Errorf("notify cap: bar %d offset %#x multiplier %d, want 4 0x3000 4", bar, off, mult)
		}
		if b, ok := vn.BAR(int(bar)); !ok || b.Kind != BARMemory64 {
			t.Errorf("notify cap names BAR%d, which Scan reports as %+v (ok %v)", bar, b, ok)
		}
	}
	if !found {
		t.Errorf("no notify capability in %+v", vn.VendorCaps)
	}
}

func TestScanMultifunction(t *testing.T) {
	// 00:03 is single-function, so its function 5 must not be seen;
	// 00:05 is multifunction, so its function 7 is.
	fns := []*fakeFn{
		newFn(0, 3, 0, 0x8086, 0x1111, 0x08, 0x80, 0, 0),
		newFn(0, 3, 5, 0x8086, 0x2222, 0x08, 0x80, 0, 0),
		newFn(0, 5, 0, 0x8086, 0x3333, 0x08, 0x80, 0, 0).header(headerMulti),
		newFn(0, 5, 7, 0x8086, 0x4444, 0x08, 0x80, 0, 0),
		newFn(0, 6, 0, 0x0000, 0x5555, 0x08, 0x80, 0, 0), // vendor 0: absent
	}
	got, err := Scan(newFakeECAM(t, 0, 0, fns...))
	if err != nil {
		t.Fatal(err)
	}
	var addrs []Address
	for _, f := range got {
		addrs = append(addrs, f.Addr)
	}
	want := []Address{{0, 3, 0}, {0, 5, 0}, {0, 5, 7}}
	if d := cmp.Diff(want, addrs); d != "" {
		t.Errorf("functions found (-want +got):\n%s", d)
	}
}

func TestScanEmptyRange(t *testing.T) {
	if _, err := Scan(badSpace{}); err == nil {
		t.Error("Scan of an empty bus range: no error")
	}
}

type badSpace struct{}

func (badSpace) Buses() (uint8, uint8)              { return 3, 2 }
func (badSpace) Function(bus, dev, fn uint8) Config { panic("not reached") }
