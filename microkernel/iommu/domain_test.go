package iommu_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/microkernel/iommu"
	"valence.dev/microkernel/iommu/vtdtest"
)

func mustDomain(t *testing.T, r rig, id uint16) *iommu.Domain {
	t.Helper()
	d, err := r.u.NewDomain(id)
	if err != nil {
		t.Fatalf("NewDomain(%d): %v", id, err)
	}
	return d
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestTranslate checks, through the fake unit's table walk, that mapped
// pages translate with their rights and that everything else faults.
func TestTranslate(t *testing.T) {
	for _, cfg := range []struct {
		name     string
		coherent bool
		cap      uint64
	}{{"qemu", false, iommu.QEMUCap}, {"4-level coherent", true, iommu.QEMUCap48}} {
		t.Run(cfg.name, func(t *testing.T) {
			r := newRig(cfg.coherent, func(h *vtdtest.Unit) { h.Cap = cfg.cap })
			must(t, r.u.Init())
			a, b := mustDomain(t, r, 1), mustDomain(t, r, 2)
			must(t, r.u.Map(a, 0x1000, 0x20_0000, true))
			must(t, r.u.Map(a, 0x2000, 0x20_1000, false))
			must(t, r.u.Map(a, 0x7f_ffff_f000, 0x30_0000, true)) // the last page below 2^39
			must(t, r.u.Map(b, 0x1000, 0x40_0000, true))
			must(t, r.u.Attach(a, 0, 2, 0))
			must(t, r.u.Attach(a, 0, 2, 1))
			must(t, r.u.Attach(b, 1, 0, 0))
			tests := []struct {
				name         string
				bus, dev, fn uint8
				iova         uint64
				write        bool
				pa           uint64
				fault        uint8
			}{
				{"read", 0, 2, 0, 0x1234, false, 0x20_0234, 0},
				{"write", 0, 2, 0, 0x1ff8, true, 0x20_0ff8, 0},
				{"second function", 0, 2, 1, 0x2010, false, 0x20_1010, 0},
				{"top of the space", 0, 2, 0, 0x7f_ffff_f008, true, 0x30_0008, 0},
				{"other domain", 1, 0, 0, 0x1000, true, 0x40_0000, 0},
				{"read-only", 0, 2, 0, 0x2000, true, 0, vtdtest.FaultWrite},
				{"unmapped read", 0, 2, 0, 0x3000, false, 0, vtdtest.FaultRead},
				{"unmapped write", 1, 0, 0, 0x2000, true, 0, vtdtest.FaultWrite},
				{"far unmapped", 0, 2, 0, 0x40_0000_0000, false, 0, vtdtest.FaultRead},
				{"unattached function", 0, 3, 0, 0x1000, false, 0, vtdtest.FaultContextNotPresent},
				{"unattached bus", 7, 2, 0, 0x1000, false, 0, vtdtest.FaultRootNotPresent},
				{"beyond the address width", 0, 2, 0, 1 << 48, false, 0, vtdtest.FaultBeyondAW},
			}
			for _, tt := range tests {
				pa, fault := r.hw.Translate(tt.bus, tt.dev, tt.fn, tt.iova, tt.write)
				if pa != tt.pa || fault != tt.fault {
					t.Errorf("%s: Translate(%02x:%02x.%x, %#x, write %v) = %#x, fault %#x; want %#x, fault %#x",
						tt.name, tt.bus, tt.dev, tt.fn, tt.iova, tt.write, pa, fault, tt.pa, tt.fault)
				}
			}
			r.check(t)
		})
	}
}

// TestUnmapInvalidate shows why a frame must not be reused between
// Unmap and the invalidation: the unit still translates from its IOTLB.
func TestUnmapInvalidate(t *testing.T) {
	for _, psi := range []bool{true, false} {
		r := started(t, func(h *vtdtest.Unit) {
			if !psi {
				h.Cap &^= 1 << 39
			}
		})
		d := mustDomain(t, r, 5)
		must(t, r.u.Map(d, 0x5000, 0x20_0000, true))
		must(t, r.u.Attach(d, 0, 4, 0))
		if _, fault := r.hw.Translate(0, 4, 0, 0x5000, true); fault != 0 {
			t.Fatalf("mapped page faults %#x", fault)
		}
		r.hw.Log = nil
		inv, err := r.u.Unmap(d, 0x5000)
		if err != nil || !inv {
			t.Fatalf("Unmap = %v, %v; want an invalidation", inv, err)
		}
		if pa, fault := r.hw.Translate(0, 4, 0, 0x5000, true); fault != 0 || pa != 0x20_0000 {
			t.Fatalf("before invalidation the IOTLB should still translate: %#x, %#x", pa, fault)
		}
		must(t, r.u.InvalidatePage(d, 0x5000))
		want := []string{"IOTLB page did=5 addr=0x5000"}
		if !psi {
			want = []string{"IOTLB domain did=5"}
		}
		if diff := cmp.Diff(want, r.hw.Log); diff != "" {
			t.Errorf("PSI %v: commands (-want +got):\n%s", psi, diff)
		}
		if _, fault := r.hw.Translate(0, 4, 0, 0x5000, false); fault != vtdtest.FaultRead {
			t.Errorf("PSI %v: after invalidation: fault %#x, want a read fault", psi, fault)
		}
		if _, _, ok := r.u.Lookup(d, 0x5000); ok {
			t.Error("Lookup finds the unmapped page")
		}
		r.check(t)
	}
}

func TestDetach(t *testing.T) {
	r := started(t, nil)
	d := mustDomain(t, r, 3)
	must(t, r.u.Map(d, 0, 0x20_0000, true))
	must(t, r.u.Attach(d, 0, 2, 0))
	if _, fault := r.hw.Translate(0, 2, 0, 0, true); fault != 0 {
		t.Fatal("attached function faults")
	}
	r.hw.Log = nil
	must(t, r.u.Detach(0, 2, 0))
	if diff := cmp.Diff([]string{"CCMD device did=3 sid=0x10", "IOTLB domain did=3"}, r.hw.Log); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
	if _, fault := r.hw.Translate(0, 2, 0, 0, true); fault != vtdtest.FaultContextNotPresent {
		t.Errorf("detached function: fault %#x", fault)
	}
	if inv, err := r.u.Unmap(d, 0); err != nil || inv {
		t.Errorf("Unmap with nothing attached = %v, %v; want no invalidation", inv, err)
	}
	if err := r.u.Detach(0, 2, 0); !errors.Is(err, iommu.ErrNotAttached) {
		t.Errorf("second Detach = %v", err)
	}
	r.check(t)
}

// TestCachingMode: with CM set the unit caches not-present entries, so
// attaching and mapping must invalidate, and domain id 0 is reserved.
func TestCachingMode(t *testing.T) {
	r := started(t, func(h *vtdtest.Unit) { h.Cap = iommu.QEMUCapCM })
	if _, err := r.u.NewDomain(0); !errors.Is(err, iommu.ErrDomainID) {
		t.Errorf("NewDomain(0) in caching mode = %v", err)
	}
	d := mustDomain(t, r, 1)
	r.hw.Translate(0, 2, 0, 0x1000, false) // caches the not-present context entry
	must(t, r.u.Attach(d, 0, 2, 0))
	r.hw.Translate(0, 2, 0, 0x1000, false) // may cache the not-present page
	must(t, r.u.Map(d, 0x1000, 0x20_0000, false))
	if pa, fault := r.hw.Translate(0, 2, 0, 0x1000, false); fault != 0 || pa != 0x20_0000 {
		t.Errorf("Translate = %#x, fault %#x", pa, fault)
	}
	want := []string{"CCMD device did=0 sid=0x10", "IOTLB domain did=1", "IOTLB page did=1 addr=0x1000"}
	if diff := cmp.Diff(want, r.hw.Log); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
	r.check(t)
}

func TestMapErrors(t *testing.T) {
	r := started(t, nil)
	d := mustDomain(t, r, 1)
	must(t, r.u.Map(d, 0x1000, 0x20_0000, true))
	dead := mustDomain(t, r, 2)
	must(t, r.u.DestroyDomain(dead))
	tests := []struct {
		name     string
		d        *iommu.Domain
		iova, pa uint64
		err      error
	}{
		{"double map", d, 0x1000, 0x20_1000, iommu.ErrMapped},
		{"unaligned iova", d, 0x1800, 0x20_0000, iommu.ErrAlign},
		{"unaligned pa", d, 0x2000, 0x20_0010, iommu.ErrAlign},
		{"iova beyond 2^39", d, 1 << 39, 0x20_0000, iommu.ErrRange},
		{"iova far beyond", d, 1 << 63, 0x20_0000, iommu.ErrRange},
		{"pa beyond the host address width", d, 0x2000, 1 << 39, iommu.ErrRange},
		{"destroyed domain", dead, 0x2000, 0x20_0000, iommu.ErrNoDomain},
		{"nil domain", nil, 0x2000, 0x20_0000, iommu.ErrNoDomain},
	}
	for _, tt := range tests {
		if err := r.u.Map(tt.d, tt.iova, tt.pa, true); !errors.Is(err, tt.err) {
			t.Errorf("%s: Map = %v, want %v", tt.name, err, tt.err)
		}
	}
	if pa, w, ok := r.u.Lookup(d, 0x1000); !ok || !w || pa != 0x20_0000 {
		t.Errorf("the refused remap changed the mapping: %#x %v %v", pa, w, ok)
	}
	if _, err := r.u.Unmap(d, 0x2000); !errors.Is(err, iommu.ErrNotMapped) {
		t.Errorf("Unmap of an unmapped page = %v", err)
	}
	if _, err := r.u.Unmap(d, 0x40_0000_0000); !errors.Is(err, iommu.ErrNotMapped) {
		t.Errorf("Unmap without tables = %v", err)
	}
	r.mem.Limit = r.mem.InUse()
	if err := r.u.Map(d, 0x40_0000_0000, 0x20_0000, true); !errors.Is(err, iommu.ErrNoMemory) {
		t.Errorf("Map without memory = %v", err)
	}
	r.check(t)
}

func TestAttachErrors(t *testing.T) {
	r := started(t, nil)
	a, b := mustDomain(t, r, 1), mustDomain(t, r, 2)
	must(t, r.u.Attach(a, 0, 2, 0))
	must(t, r.u.Attach(a, 0, 2, 0)) // again: nothing to do
	if a.Attached() != 1 {
		t.Errorf("Attached = %d", a.Attached())
	}
	if err := r.u.Attach(b, 0, 2, 0); !errors.Is(err, iommu.ErrAttached) {
		t.Errorf("attach to a second domain = %v", err)
	}
	if r.u.AttachedTo(0, 2, 0) != a {
		t.Error("the refused attach moved the function")
	}
	if err := r.u.Attach(a, 0, 32, 0); !errors.Is(err, iommu.ErrDevice) {
		t.Errorf("device 32 = %v", err)
	}
	if err := r.u.Attach(a, 0, 1, 8); !errors.Is(err, iommu.ErrDevice) {
		t.Errorf("function 8 = %v", err)
	}
	r.check(t)
}

func TestDomainIDs(t *testing.T) {
	r := started(t, func(h *vtdtest.Unit) { h.Cap &^= 7 }) // ND 0: 16 ids
	for i := 0; i < 16; i++ {
		id, ok := r.u.FreeDomainID()
		if !ok || id != uint16(i) {
			t.Fatalf("FreeDomainID = %d, %v; want %d", id, ok, i)
		}
		mustDomain(t, r, id)
	}
	if id, ok := r.u.FreeDomainID(); ok {
		t.Errorf("FreeDomainID = %d with every id taken", id)
	}
	if _, err := r.u.NewDomain(16); !errors.Is(err, iommu.ErrDomainID) {
		t.Errorf("NewDomain(16) = %v", err)
	}
	if _, err := r.u.NewDomain(3); !errors.Is(err, iommu.ErrDomainInUse) {
		t.Errorf("NewDomain(3) twice = %v", err)
	}
	r.check(t)
}

func TestDestroyDomain(t *testing.T) {
	r := started(t, nil)
	base := r.mem.InUse() // the root table
	d := mustDomain(t, r, 1)
	for _, iova := range []uint64{0, 0x1000, 0x40_0000, 0x40_0000_0000, 0x7f_ffff_f000} {
		must(t, r.u.Map(d, iova, 0x20_0000, false))
	}
	must(t, r.u.Attach(d, 0, 2, 0))
	if err := r.u.DestroyDomain(d); !errors.Is(err, iommu.ErrAttached) {
		t.Fatalf("DestroyDomain while attached = %v", err)
	}
	must(t, r.u.Detach(0, 2, 0))
	must(t, r.u.DestroyDomain(d)) // with 5 pages still mapped
	if got := r.mem.InUse(); got != base+1 {
		t.Errorf("%d pages in use, want %d (root and bus 0's context table)", got, base+1)
	}
	if err := r.u.DestroyDomain(d); !errors.Is(err, iommu.ErrNoDomain) {
		t.Errorf("second DestroyDomain = %v", err)
	}
	d2 := mustDomain(t, r, 1) // the id is free again
	must(t, r.u.Attach(d2, 0, 2, 0))
	if _, fault := r.hw.Translate(0, 2, 0, 0x1000, false); fault != vtdtest.FaultRead {
		t.Errorf("the old domain's page is reachable: fault %#x", fault)
	}
	r.check(t)
}

func TestNotInitialised(t *testing.T) {
	r := newRig(false, nil)
	if _, err := r.u.NewDomain(1); !errors.Is(err, iommu.ErrState) {
		t.Errorf("NewDomain = %v", err)
	}
	if err := r.u.Detach(0, 1, 0); !errors.Is(err, iommu.ErrState) {
		t.Errorf("Detach = %v", err)
	}
}
