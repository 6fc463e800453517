package iommu_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/microkernel/iommu"
	"valence.dev/microkernel/iommu/vtdtest"
)

// noFlushMem hides vtdtest.Mem's Flush.
type noFlushMem struct{ m *vtdtest.Mem }

func (n noFlushMem) Alloc() (uint64, bool)       { return n.m.Alloc() }
func (n noFlushMem) Free(pa uint64)              { n.m.Free(pa) }
func (n noFlushMem) Page(pa uint64) *[512]uint64 { return n.m.Page(pa) }

type rig struct {
	u   *iommu.Unit
	hw  *vtdtest.Unit
	mem *vtdtest.Mem
}

// newRig returns a QEMU-like unit, changed by adjust, not yet initialised.
func newRig(coherent bool, adjust func(*vtdtest.Unit)) rig {
	mem := vtdtest.NewMem(coherent)
	hw := vtdtest.New(mem)
	if coherent {
		hw.ECap |= 1
	}
	if adjust != nil {
		adjust(hw)
	}
	u := iommu.New(hw, mem, 39)
	u.MaxPolls = 1000
	return rig{u, hw, mem}
}

// started returns an initialised QEMU-like unit (non-coherent, as QEMU).
func started(t *testing.T, adjust func(*vtdtest.Unit)) rig {
	t.Helper()
	r := newRig(false, adjust)
	if err := r.u.Init(); err != nil {
		t.Fatalf("Init: %v", err)
	}
	r.hw.Log = nil
	return r
}

func (r rig) check(t *testing.T) {
	t.Helper()
	if len(r.hw.Errs) != 0 || len(r.mem.Errs) != 0 {
		t.Errorf("misuse of the unit %q or of memory %q", r.hw.Errs, r.mem.Errs)
	}
}

func TestDecodeQEMU(t *testing.T) {
	wantCap := iommu.Cap{Raw: iommu.QEMUCap, Domains: 1 << 16, SAGAW: 2, MGAW: 39, FRO: 0x220, SLLPS: 3,
		PSI: true, NFR: 1, MAMV: 18, DWD: true, DRD: true}
	if diff := cmp.Diff(wantCap, iommu.DecodeCap(iommu.QEMUCap)); diff != "" {
		t.Errorf("CAP (-want +got):\n%s", diff)
	}
	wantECap := iommu.ECap{Raw: iommu.QEMUECap, QI: true, IR: true, PT: true, IRO: 0xf0, MHMV: 15}
	if diff := cmp.Diff(wantECap, iommu.DecodeECap(iommu.QEMUECap)); diff != "" {
		t.Errorf("ECAP (-want +got):\n%s", diff)
	}
	if c := iommu.DecodeCap(iommu.QEMUCap48); c.SAGAW != 6 || c.MGAW != 48 {
		t.Errorf("aw-bits=48: SAGAW %#b MGAW %d", c.SAGAW, c.MGAW)
	}
	if !iommu.DecodeCap(iommu.QEMUCapCM).CM {
		t.Error("caching-mode=on: CM clear")
	}
	if v := iommu.DecodeVersion(iommu.QEMUVersion); v != (iommu.Version{1, 0}) {
		t.Errorf("version %+v", v)
	}
}

func TestInit(t *testing.T) {
	const srtp, te, wbf = "GCMD 0x40000000", "GCMD 0x80000000", "GCMD 0x88000000"
	std := []string{srtp, "CCMD global did=0 sid=0x0", "IOTLB global did=0", te}
	tests := []struct {
		name     string
		coherent bool
		adjust   func(*vtdtest.Unit)
		noFlush  bool
		levels   int
		bits     uint8
		log      []string
		err      error
		msg      string
	}{
		{name: "qemu", levels: 3, bits: 39, log: std},
		{name: "coherent", coherent: true, levels: 3, bits: 39, log: std},
		{name: "aw-bits=48", adjust: func(h *vtdtest.Unit) { h.Cap = iommu.QEMUCap48 }, levels: 4, bits: 48, log: std},
		{name: "48-bit tables, 39-bit MGAW", adjust: func(h *vtdtest.Unit) { h.Cap |= 4 << 8 }, levels: 4, bits: 39, log: std},
		{name: "write buffer flushing", adjust: func(h *vtdtest.Unit) { h.Cap |= 1 << 4 }, levels: 3, bits: 39,
			log: []string{srtp, "GCMD 0x8000000", "CCMD global did=0 sid=0x0", "IOTLB global did=0", te}},
		{name: "firmware left translation on", adjust: func(h *vtdtest.Unit) { h.Write32(0x18, 1<<31) }, levels: 3, bits: 39,
			log: append([]string{"GCMD 0x0"}, std...)},
		{name: "version 0", adjust: func(h *vtdtest.Unit) { h.Ver = 0 }, err: iommu.ErrUnsupported, msg: "VER"},
		{name: "only 5-level tables", adjust: func(h *vtdtest.Unit) { h.Cap = h.Cap&^(0x1f<<8) | 8<<8 }, err: iommu.ErrUnsupported, msg: "SAGAW"},
		{name: "no flush for a non-coherent unit", noFlush: true, err: iommu.ErrUnsupported, msg: "ECAP.C"},
		{name: "TE never acknowledged", adjust: func(h *vtdtest.Unit) { h.IgnoreCommands = 1 << 31 }, err: iommu.ErrTimeout, msg: "GSTS.TES not set"},
		{name: "SRTP never acknowledged", adjust: func(h *vtdtest.Unit) { h.IgnoreCommands = 1 << 30 }, err: iommu.ErrTimeout, msg: "GSTS.RTPS"},
		{name: "write buffer never flushed", adjust: func(h *vtdtest.Unit) { h.Cap |= 1 << 4; h.IgnoreCommands = 1 << 27 }, err: iommu.ErrTimeout, msg: "GSTS.WBFS not clear"},
		{name: "invalidation never completes", adjust: func(h *vtdtest.Unit) { h.Stuck = true }, err: iommu.ErrTimeout, msg: "CCMD.ICC"},
		{name: "invalidation refused", adjust: func(h *vtdtest.Unit) { h.Refuse = true }, err: iommu.ErrInvalidation, msg: "CAIG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(tt.coherent, tt.adjust)
			r.hw.Log = nil
			if tt.noFlush {
				r.u = iommu.New(r.hw, noFlushMem{r.mem}, 39)
			}
			err := r.u.Init()
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.msg) {
					t.Fatalf("Init = %v, want %v naming %q", err, tt.err, tt.msg)
				}
				if r.mem.InUse() != 0 {
					t.Errorf("%d pages still allocated after a failed Init", r.mem.InUse())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.u.Levels() != tt.levels || r.u.AddressBits() != tt.bits {
				t.Errorf("levels %d, address bits %d; want %d, %d", r.u.Levels(), r.u.AddressBits(), tt.levels, tt.bits)
			}
			if !r.hw.Enabled() || r.hw.Root() == 0 {
				t.Errorf("translation enabled %v, root %#x", r.hw.Enabled(), r.hw.Root())
			}
			if diff := cmp.Diff(tt.log, r.hw.Log); diff != "" {
				t.Errorf("commands (-want +got):\n%s", diff)
			}
			if tt.coherent && r.mem.Flushes != 0 {
				t.Errorf("%d flushes on a coherent unit", r.mem.Flushes)
			}
			if err := r.u.Init(); !errors.Is(err, iommu.ErrState) {
				t.Errorf("second Init = %v", err)
			}
			r.check(t)
		})
	}
}

// TestBlockedAfterInit: once enabled, every request faults until mapped.
func TestBlockedAfterInit(t *testing.T) {
	r := started(t, nil)
	if pa, fault := r.hw.Translate(0, 2, 0, 0x1000, false); fault != vtdtest.FaultRootNotPresent {
		t.Errorf("Translate = %#x, fault %#x; want root not present", pa, fault)
	}
	r.check(t)
}

// TestWriteBufferKeepsTE: a write-buffer flush after enabling must repeat
// TE in GCMD, or it would turn translation off (§10.4.4).
func TestWriteBufferKeepsTE(t *testing.T) {
	r := started(t, func(h *vtdtest.Unit) { h.Cap |= 1 << 4 })
	d := mustDomain(t, r, 1)
	if err := r.u.Map(d, 0x1000, 0x200000, true); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"GCMD 0x88000000"}, r.hw.Log); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
	if !r.hw.Enabled() {
		t.Error("translation turned off")
	}
}

func TestFaultEvent(t *testing.T) {
	r := started(t, nil)
	r.u.SetFaultEvent(0xfee00000, 0x4041)
	r.hw.Translate(0, 3, 0, 0x5000, true)
	if r.hw.Interrupts != 1 {
		t.Errorf("%d fault interrupts, want 1", r.hw.Interrupts)
	}
	r.check(t)
}
