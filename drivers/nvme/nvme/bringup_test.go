package nvme_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"valence.dev/drivers/lib/block"
	"valence.dev/drivers/lib/dev"
	"valence.dev/drivers/nvme/internal/fakenvme"
	"valence.dev/drivers/nvme/nvme"
)

func TestBringUp(t *testing.T) {
	cases := []struct {
		name     string
		cfg      fakenvme.Config
		wantInfo block.Info
		wantID   nvme.Identity
	}{
		{
			name:     "defaults",
			cfg:      fakenvme.Config{Model: "Valence Fake NVMe", Serial: "SN0001", Firmware: "1.0"},
			wantInfo: block.Info{Model: "Valence Fake NVMe", Serial: "SN0001", SectorSize: 512, Sectors: 8192, MaxSectors: 4096},
			wantID:   nvme.Identity{VendorID: 0x1b36, Serial: "SN0001", Model: "Valence Fake NVMe", Firmware: "1.0", Version: 0x20000, Namespaces: 1, WriteCache: true},
		},
		{
			name:     "4 KiB blocks and MDTS 5",
			cfg:      fakenvme.Config{Model: "M", Serial: "S", BlockShift: 12, Sectors: 1024, MDTS: 5},
			wantInfo: block.Info{Model: "M", Serial: "S", SectorSize: 4096, Sectors: 1024, MaxSectors: 32},
			wantID:   nvme.Identity{VendorID: 0x1b36, Serial: "S", Model: "M", MDTS: 5, Version: 0x20000, Namespaces: 1, WriteCache: true},
		},
		{
			name:     "doorbell stride 16 bytes, small queues",
			cfg:      fakenvme.Config{Model: "M", Serial: "S", DSTRD: 2, MQES: 7},
			wantInfo: block.Info{Model: "M", Serial: "S", SectorSize: 512, Sectors: 8192, MaxSectors: 4096},
			wantID:   nvme.Identity{VendorID: 0x1b36, Serial: "S", Model: "M", Version: 0x20000, Namespaces: 1, WriteCache: true},
		},
		{
			name:     "64 KiB blocks",
			cfg:      fakenvme.Config{Model: "M", Serial: "S", BlockShift: 16, Sectors: 64},
			wantInfo: block.Info{Model: "M", Serial: "S", SectorSize: 65536, Sectors: 64, MaxSectors: 32},
			wantID:   nvme.Identity{VendorID: 0x1b36, Serial: "S", Model: "M", Version: 0x20000, Namespaces: 1, WriteCache: true},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := mustStart(t, tc.cfg, nvme.Options{})
			if diff := cmp.Diff(tc.wantInfo, r.ctl.Info()); diff != "" {
				t.Errorf("Info (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantID, r.ctl.Identity()); diff != "" {
				t.Errorf("Identity (-want +got):\n%s", diff)
			}
			// One round trip proves the I/O queue pair works.
			info := r.ctl.Info()
			buf := r.buffer(uint64(info.SectorSize))
			copy(buf.Bytes, "hello")
			if err := r.do(block.Request{Op: block.OpWrite, LBA: info.Sectors - 1, Count: 1, Buf: buf}); err != nil {
				t.Fatalf("write: %v", err)
			}
			if err := r.do(block.Request{Op: block.OpFlush}); err != nil {
				t.Fatalf("flush: %v", err)
			}
			got := r.fake.Disk((info.Sectors-1)*uint64(info.SectorSize), 5)
			if string(got) != "hello" {
				t.Errorf("disk holds %q, want %q", got, "hello")
			}
		})
	}
}

// TestBringUpFaults: a device that cannot be driven or reports impossible
// values gives an error naming the register or field, and New leaves
// nothing behind (the cleanup checks the DMA memory).
func TestBringUpFaults(t *testing.T) {
	editNS := func(edit func(b []byte)) func(uint8, []byte) {
		return func(cns uint8, b []byte) {
			if cns == 0 {
				edit(b)
			}
		}
	}
	failAdmin := func(op uint8, status uint16) func(fakenvme.Command) fakenvme.Action {
		return func(c fakenvme.Command) fakenvme.Action {
			if c.Queue == 0 && c.Opcode == op {
				return fakenvme.Action{Status: status}
			}
			return fakenvme.Action{}
		}
	}
	cases := []struct {
		name     string
		cfg      fakenvme.Config
		faults   fakenvme.Faults
		opts     nvme.Options
		want     error
		mentions []string
	}{
		{"never ready", fakenvme.Config{TO: 1}, fakenvme.Faults{NeverReady: true}, nvme.Options{},
			dev.ErrTimeout, []string{"nvme0", "CSTS.RDY=1", "500ms"}},
		{"fatal status", fakenvme.Config{}, fakenvme.Faults{FatalOnEnable: true}, nvme.Options{},
			nvme.ErrDevice, []string{"CSTS.CFS"}},
		{"CAP.TO zero", fakenvme.Config{EditCAP: func(v uint64) uint64 { return v &^ (0xff << 24) }}, fakenvme.Faults{}, nvme.Options{},
			nvme.ErrDevice, []string{"CAP.TO is 0"}},
		{"CAP.MQES zero", fakenvme.Config{EditCAP: func(v uint64) uint64 { return v &^ 0xffff }}, fakenvme.Faults{}, nvme.Options{},
			nvme.ErrDevice, []string{"CAP.MQES"}},
		{"no NVM command set", fakenvme.Config{EditCAP: func(v uint64) uint64 { return v &^ (1 << 37) }}, fakenvme.Faults{}, nvme.Options{},
			nvme.ErrUnsupported, []string{"CAP.CSS"}},
		{"8 KiB minimum page", fakenvme.Config{EditCAP: func(v uint64) uint64 { return v | 1<<48 | 1<<52 }}, fakenvme.Faults{}, nvme.Options{},
			nvme.ErrUnsupported, []string{"CAP.MPSMIN 1"}},
		{"device gone", fakenvme.Config{EditCAP: func(uint64) uint64 { return ^uint64(0) }}, fakenvme.Faults{}, nvme.Options{},
			nvme.ErrDevice, []string{"all ones"}},
		{"doorbell outside BAR", fakenvme.Config{DSTRD: 10, RegsSize: 0x2000}, fakenvme.Faults{}, nvme.Options{},
			nvme.ErrDevice, []string{"CAP.DSTRD 10"}},
		{"metadata", fakenvme.Config{Metadata: 8}, fakenvme.Faults{}, nvme.Options{},
			nvme.ErrUnsupported, []string{"LBAF0.MS 8"}},
		{"256-byte blocks", fakenvme.Config{}, fakenvme.Faults{Identify: editNS(func(b []byte) { b[130] = 8 })}, nvme.Options{},
			nvme.ErrDevice, []string{"LBADS 8"}},
		{"128 KiB blocks", fakenvme.Config{}, fakenvme.Faults{Identify: editNS(func(b []byte) { b[130] = 17 })}, nvme.Options{},
			nvme.ErrDevice, []string{"LBADS 17"}},
		{"zero size", fakenvme.Config{}, fakenvme.Faults{Identify: editNS(func(b []byte) { clear(b[0:8]) })}, nvme.Options{},
			nvme.ErrDevice, []string{"NSZE is 0"}},
		{"format beyond NLBAF", fakenvme.Config{}, fakenvme.Faults{Identify: editNS(func(b []byte) { b[26] = 3 })}, nvme.Options{},
			nvme.ErrDevice, []string{"FLBAS", "NLBAF 0"}},
		{"SQES", fakenvme.Config{}, fakenvme.Faults{Identify: func(cns uint8, b []byte) {
			if cns == 1 {
				b[512] = 0x77
			}
		}}, nvme.Options{}, nvme.ErrDevice, []string{"SQES 0x77"}},
		{"no namespaces", fakenvme.Config{}, fakenvme.Faults{Identify: func(cns uint8, b []byte) {
			if cns == 1 {
				binary.LittleEndian.PutUint32(b[516:], 0)
			}
		}}, nvme.Options{}, nvme.ErrDevice, []string{"NN is 0"}},
		{"MDTS below one block", fakenvme.Config{BlockShift: 16, Sectors: 16, MDTS: 1}, fakenvme.Faults{}, nvme.Options{},
			nvme.ErrDevice, []string{"MDTS 1", "65536-byte block"}},
		{"identify fails", fakenvme.Config{}, fakenvme.Faults{Command: failAdmin(0x06, 0x002)}, nvme.Options{},
			nvme.ErrCommandFailed, []string{"identify controller", "Invalid Field in Command (SCT 0h, SC 02h)"}},
		{"create CQ fails", fakenvme.Config{}, fakenvme.Faults{Command: failAdmin(0x05, 0x102|1<<14)}, nvme.Options{},
			nvme.ErrCommandFailed, []string{"create I/O completion queue", "Invalid Queue Size", "DNR"}},
		{"admin command never completes", fakenvme.Config{}, fakenvme.Faults{Command: func(c fakenvme.Command) fakenvme.Action {
			return fakenvme.Action{Drop: c.Opcode == 0x06}
		}}, nvme.Options{CommandTimeout: 100 * time.Millisecond},
			dev.ErrTimeout, []string{"Identify (CID 0, SQ 0) not completed within 100ms", "CSTS=0x1"}},
		{"bad queue depth option", fakenvme.Config{}, fakenvme.Faults{}, nvme.Options{QueueDepth: 1},
			nvme.ErrBadRequest, []string{"QueueDepth 1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := start(t, tc.cfg, tc.faults, tc.opts)
			if r.ctl != nil {
				t.Fatalf("New succeeded; want an error wrapping %q", tc.want)
			}
			checkErr(t, "New", err, tc.want, tc.mentions...)
		})
	}
}

// The queue depth is bounded by CAP.MQES+1 and by the option.
func TestQueueDepth(t *testing.T) {
	cases := []struct {
		name    string
		mqes    uint16
		depth   int
		wantMax int // most commands the device should see in flight
	}{
		{"option", 1023, 40, 39},
		{"CAP.MQES", 15, 0, 15},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := mustStart(t, fakenvme.Config{MQES: tc.mqes}, nvme.Options{QueueDepth: tc.depth})
			r.fake.SetFaults(fakenvme.Faults{Command: func(c fakenvme.Command) fakenvme.Action {
				return fakenvme.Action{Delay: 20 * time.Millisecond}
			}})
			buf := r.buffer(512 * 100)
			var chs []<-chan error
			for i := range 100 {
				chs = append(chs, r.submit(block.Request{Op: block.OpRead, LBA: uint64(i), Count: 1, Buf: buf, Off: uint64(i) * 512}))
			}
			for _, ch := range chs {
				if err := r.wait(ch); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(tc.wantMax, r.fake.Stats().MaxInFlight); diff != "" {
				t.Errorf("most commands in flight (-want +got):\n%s", diff)
			}
		})
	}
}
