package iommu_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/microkernel/iommu"
	"valence.dev/microkernel/iommu/vtdtest"
)

func TestDecodeFault(t *testing.T) {
	tests := []struct {
		lo, hi uint64
		want   iommu.Fault
		ok     bool
		str    string
	}{
		{0x5123, 1<<63 | 1<<62 | 6<<32 | 0x0310, iommu.Fault{Bus: 3, Device: 2, Function: 0, Addr: 0x5000, Reason: iommu.ReasonRead},
			true, "03:02.0 read at 0x5000: read not permitted"},
		{0x7f_ffff_f000, 1<<63 | 5<<32 | 0xfffb, iommu.Fault{Bus: 0xff, Device: 31, Function: 3, Addr: 0x7f_ffff_f000, Reason: iommu.ReasonWrite, Write: true},
			true, "ff:1f.3 write at 0x7ffffff000: write not permitted"},
		{0, 1<<62 | 2<<32 | 0x10, iommu.Fault{Device: 2, Reason: iommu.ReasonContextNotPresent}, false, "00:02.0 read at 0x0: context entry not present"},
		{0, 1<<63 | 0x99<<32, iommu.Fault{Reason: 0x99, Write: true}, true, "00:00.0 write at 0x0: fault reason 0x99"},
	}
	for _, tt := range tests {
		got, ok := iommu.DecodeFault(tt.lo, tt.hi)
		if diff := cmp.Diff(tt.want, got); diff != "" || ok != tt.ok {
			t.Errorf("DecodeFault(%#x, %#x) ok %v, want %v (-want +got):\n%s", tt.lo, tt.hi, ok, tt.ok, diff)
		}
		if s := got.String(); s != tt.str {
			t.Errorf("String = %q, want %q", s, tt.str)
		}
	}
}

// TestFaults has the fake unit record real translation faults and checks
// that Faults decodes and clears them, and reports overflow.
func TestFaults(t *testing.T) {
	r := started(t, func(h *vtdtest.Unit) { h.Cap |= 3 << 40 }) // four fault records
	d := mustDomain(t, r, 1)
	must(t, r.u.Map(d, 0x1000, 0x20_0000, false))
	must(t, r.u.Attach(d, 0, 2, 0))
	r.hw.Translate(0, 2, 0, 0x1008, true)  // write to a read-only page
	r.hw.Translate(0, 2, 0, 0x9000, false) // unmapped
	r.hw.Translate(0, 3, 1, 0x1000, false) // not attached
	got, overflow := r.u.Faults(nil)
	want := []iommu.Fault{
		{Bus: 0, Device: 2, Function: 0, Addr: 0x1000, Reason: iommu.ReasonWrite, Write: true},
		{Bus: 0, Device: 2, Function: 0, Addr: 0x9000, Reason: iommu.ReasonRead},
		{Bus: 0, Device: 3, Function: 1, Addr: 0x1000, Reason: iommu.ReasonContextNotPresent},
	}
	if diff := cmp.Diff(want, got); diff != "" || overflow {
		t.Errorf("Faults (-want +got), overflow %v:\n%s", overflow, diff)
	}
	if got, overflow := r.u.Faults(nil); len(got) != 0 || overflow {
		t.Errorf("second Faults = %v, %v", got, overflow)
	}
	// Six more faults fill the four records (starting at index 3 and
	// wrapping), and the last two are lost.
	for i := uint64(0); i < 6; i++ {
		r.hw.Translate(1, 0, 0, i<<12, false)
	}
	got, overflow = r.u.Faults(nil)
	if len(got) != 4 || !overflow {
		t.Errorf("after 6 faults: %d records, overflow %v; want 4, true", len(got), overflow)
	}
	for i, f := range got {
		if f.Addr != uint64(i)<<12 || f.Reason != iommu.ReasonRootNotPresent {
			t.Errorf("record %d: %v", i, f)
		}
	}
	r.hw.Translate(1, 0, 0, 0xa000, false)
	if got, overflow = r.u.Faults(nil); len(got) != 1 || overflow {
		t.Errorf("recording resumed: %v, %v", got, overflow)
	}
	r.check(t)
}

// FuzzFaultRecord decodes arbitrary fault records, directly and through
// the fake unit's fault recording registers.
func FuzzFaultRecord(f *testing.F) {
	f.Add(uint64(0x5123), uint64(1<<63|1<<62|6<<32|0x0310))
	f.Add(uint64(0xffff_ffff_ffff_ffff), uint64(0xffff_ffff_ffff_ffff))
	f.Add(uint64(0), uint64(0))
	f.Fuzz(func(t *testing.T, lo, hi uint64) {
		got, ok := iommu.DecodeFault(lo, hi)
		if ok != (hi>>63 != 0) {
			t.Fatalf("ok %v for F bit %d", ok, hi>>63)
		}
		if sid := uint16(got.Bus)<<8 | uint16(got.Device)<<3 | uint16(got.Function); sid != uint16(hi) || got.Device > 31 || got.Function > 7 {
			t.Fatalf("source id %#x decoded as %+v", uint16(hi), got)
		}
		if got.Addr != lo&^0xfff || uint8(got.Reason) != uint8(hi>>32) || got.Write != (hi>>62&1 == 0) {
			t.Fatalf("(%#x, %#x) decoded as %+v", lo, hi, got)
		}
		if got.String() == "" || got.Reason.String() == "" {
			t.Fatal("empty string")
		}
		r := started(t, nil)
		r.hw.InjectRaw(lo, hi)
		faults, overflow := r.u.Faults(nil)
		want, _ := iommu.DecodeFault(lo, hi|1<<63)
		if diff := cmp.Diff([]iommu.Fault{want}, faults); diff != "" || overflow {
			t.Fatalf("through the registers (-want +got), overflow %v:\n%s", overflow, diff)
		}
		if faults, _ := r.u.Faults(nil); len(faults) != 0 {
			t.Fatalf("record not cleared: %v", faults)
		}
		r.check(t)
	})
}

// FuzzMapUnmap runs a sequence of Map, Unmap and invalidations from the
// fuzzer against a model, and checks every page of the sequence through
// the fake unit's table walk after each step.
func FuzzMapUnmap(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 1, 1, 3, 1, 2, 9})
	f.Add([]byte{0, 0, 0, 0, 1, 0, 1, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 64 {
			ops = ops[:64]
		}
		r := started(t, nil)
		d := mustDomain(t, r, 1)
		must(t, r.u.Attach(d, 0, 2, 0))
		type page struct {
			pa    uint64
			write bool
		}
		model := map[uint64]page{}
		// Pages are spread so that the walk needs several tables.
		iovaOf := func(b byte) uint64 { return uint64(b&7)<<12 | uint64(b>>3&3)<<21 | uint64(b>>5)<<30 }
		for i := 0; i+1 < len(ops); i += 2 {
			op, iova := ops[i]%3, iovaOf(ops[i+1])
			switch op {
			case 0:
				p := page{0x100_0000 + uint64(i)<<12, ops[i]&4 != 0}
				err := r.u.Map(d, iova, p.pa, p.write)
				if _, mapped := model[iova]; mapped != (err != nil) {
					t.Fatalf("Map(%#x) = %v with mapped %v", iova, err, mapped)
				}
				if err == nil {
					model[iova] = p
				}
			case 1:
				inv, err := r.u.Unmap(d, iova)
				if _, mapped := model[iova]; mapped != (err == nil) || inv != mapped {
					t.Fatalf("Unmap(%#x) = %v, %v with mapped %v", iova, inv, err, mapped)
				}
				if inv {
					must(t, r.u.InvalidatePage(d, iova))
				}
				delete(model, iova)
			case 2:
				must(t, r.u.InvalidateDomain(d))
			}
			for b := 0; b < 256; b += 7 {
				iova := iovaOf(byte(b))
				p, mapped := model[iova]
				pa, fault := r.hw.Translate(0, 2, 0, iova, false)
				if mapped && (fault != 0 || pa != p.pa) || !mapped && fault == 0 {
					t.Fatalf("step %d: read %#x = %#x, fault %#x; model %+v, %v", i, iova, pa, fault, p, mapped)
				}
				if _, fault = r.hw.Translate(0, 2, 0, iova, true); (fault == 0) != (mapped && p.write) {
					t.Fatalf("step %d: write %#x: fault %#x; model %+v, %v", i, iova, fault, p, mapped)
				}
			}
			r.u.Faults(nil)
		}
		if d.Mapped() != len(model) {
			t.Fatalf("Mapped %d, model %d", d.Mapped(), len(model))
		}
		must(t, r.u.Detach(0, 2, 0))
		must(t, r.u.DestroyDomain(d))
		if r.mem.InUse() != 2 {
			t.Fatalf("%d pages in use after DestroyDomain, want 2", r.mem.InUse())
		}
		r.check(t)
	})
}
