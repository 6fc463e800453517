package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/drivers/pci/pci"
)

func TestMakePlan(t *testing.T) {
	nvmed := &pci.Manifest{Name: "nvme.toml", Driver: pci.Driver{Name: "nvmed", Path: "/bin/nvmed", Args: []string{"-queues", "2"}}}
	const ecam = 0xb000_0000
	tests := []struct {
		name     string
		f        pci.Function
		first    uint8
		pathEnv  string
		want     Plan
		wantFail bool
	}{
		{
			name: "nvme with MSI-X in BAR0",
			f: pci.Function{Addr: pci.Address{Bus: 0, Device: 4, Function: 0},
				BARs: []pci.BAR{{Index: 0, Kind: pci.BARMemory64, Base: 0xfebd0000, Size: 16 << 10}},
				MSIX: &pci.MSIX{TableSize: 65, TableBIR: 0, TableOffset: 0x2000, PBABIR: 0, PBAOffset: 0x3000}},
			want: Plan{
				Addr: pci.Address{Bus: 0, Device: 4}, Fn: 4 << 3, Config: ecam + 4<<15,
				Windows:    []Window{{BAR: 0, Base: 0xfebd0000, Size: 16 << 10}},
				MSIXWindow: 0,
				Command:    pci.CmdMemory | pci.CmdBusMaster | pci.CmdINTxDisable,
				Path:       "/bin/nvmed", Argv: []string{"nvmed", "-queues", "2"},
				Env: []string{"PATH=/bin", "HOME=/", "VALENCE_PCI_ADDR=00:04.0", "VALENCE_PCI_BARS=0"},
			},
		},
		{
			name: "virtio-net: I/O, small, unassigned and 64-bit BARs",
			f: pci.Function{Addr: pci.Address{Bus: 2, Device: 0x1f, Function: 7},
				BARs: []pci.BAR{
					{Index: 0, Kind: pci.BARIO, Base: 0xc040, Size: 0x20},
					{Index: 1, Kind: pci.BARMemory32, Base: 0xfebf1000, Size: 0x100}, // rounded to a page
					{Index: 2, Kind: pci.BARMemory32, Base: 0xfebf2080, Size: 0x80},  // not page-aligned
					{Index: 3, Kind: pci.BARMemory32, Base: 0, Size: 0x1000},         // unassigned
					{Index: 4, Kind: pci.BARMemory64, Prefetchable: true, Base: 0x8_0000_0000, Size: 1 << 30},
				},
				MSIX: &pci.MSIX{TableSize: 3, TableBIR: 1}},
			first:   1,
			pathEnv: "/sbin:/bin",
			want: Plan{
				Addr: pci.Address{Bus: 2, Device: 0x1f, Function: 7}, Fn: 2<<8 | 0x1f<<3 | 7,
				Config: ecam + 1<<20 | 0x1f<<15 | 7<<12,
				Windows: []Window{
					{BAR: 0, IO: true, Base: 0xc040, Size: 0x20},
					{BAR: 1, Base: 0xfebf1000, Size: 0x1000},
				},
				MSIXWindow: 1,
				Command:    pci.CmdIO | pci.CmdMemory | pci.CmdBusMaster | pci.CmdINTxDisable,
				Path:       "/bin/nvmed", Argv: []string{"nvmed", "-queues", "2"},
				Env: []string{"PATH=/sbin:/bin", "HOME=/", "VALENCE_PCI_ADDR=02:1f.7", "VALENCE_PCI_BARS=0,1"},
				Notes: []string{
					"BAR2: 0x80 bytes at 0xfebf2080 do not start a page; not given to the driver",
					"BAR3: no address assigned; not given to the driver",
					"BAR4: 0x40000000 bytes is more than the kernel maps (0x10000000); not given to the driver",
				},
			},
		},
		{
			name: "no BARs; MSI-X table BAR missing",
			f: pci.Function{Addr: pci.Address{Bus: 0, Device: 1},
				BARs: []pci.BAR{{Index: 0, Kind: pci.BARIO, Base: 0xfff0, Size: 0x20}},
				MSIX: &pci.MSIX{TableSize: 1, TableBIR: 2}},
			want: Plan{
				Addr: pci.Address{Device: 1}, Fn: 1 << 3, Config: ecam + 1<<15, MSIXWindow: -1,
				Command: pci.CmdBusMaster | pci.CmdINTxDisable,
				Path:    "/bin/nvmed", Argv: []string{"nvmed", "-queues", "2"},
				Env: []string{"PATH=/bin", "HOME=/", "VALENCE_PCI_ADDR=00:01.0", "VALENCE_PCI_BARS="},
				Notes: []string{
					"BAR0: ports 0xfff0+0x20 run past 0xffff; not given to the driver",
					"MSI-X table BAR2 is not given; MSI-X left as found",
				},
			},
		},
		{
			name:     "bus below the window",
			f:        pci.Function{Addr: pci.Address{Bus: 0}},
			first:    1,
			wantFail: true,
		},
	}
	for _, tt := range tests {
		got, err := MakePlan(&tt.f, nvmed, ecam, tt.first, tt.pathEnv)
		if tt.wantFail {
			if err == nil {
				t.Errorf("%s: no error", tt.name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, diff)
		}
	}
}

func TestDriverIndex(t *testing.T) {
	blk := &pci.Manifest{Driver: pci.Driver{Name: "virtio-blkd"}}
	net := &pci.Manifest{Driver: pci.Driver{Name: "virtio-netd"}}
	mans := []*pci.Manifest{nil, blk, net, nil, blk, net, blk}
	want := []int{1: 0, 2: 0, 4: 1, 5: 1, 6: 2}
	for i, w := range want {
		if mans[i] == nil {
			continue
		}
		if got := driverIndex(mans, i); got != w {
			t.Errorf("driverIndex(%d) = %d, want %d", i, got, w)
		}
	}
}
