package devtest

import (
	"context"
	"testing"
	"time"
)

func TestDMASlice(t *testing.T) {
	d := NewDMA()
	a, err := d.Alloc(100, 64)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := d.Alloc(4096, 4096)
	cases := []struct {
		name string
		addr uint64
		n    uint64
		ok   bool
	}{
		{"whole first", a.Addr, 4096, true},
		{"inside", a.Addr + 10, 20, true},
		{"past the end", a.Addr + 4000, 200, false},
		{"gap", a.Addr + 4096, 1, false},
		{"before any", a.Addr - 1, 1, false},
		{"second", b.Addr, 4096, true},
		{"wraps", b.Addr + 8, ^uint64(0), false},
	}
	for _, c := range cases {
		if _, err := d.Slice(c.addr, c.n); (err == nil) != c.ok {
			t.Errorf("%s: Slice(%#x, %d) error %v, want ok=%v", c.name, c.addr, c.n, err, c.ok)
		}
	}
	d.Free(a)
	if _, err := d.Slice(a.Addr, 1); err == nil {
		t.Error("a freed buffer is still reachable")
	}
	if d.Outstanding() != 1 {
		t.Errorf("Outstanding = %d, want 1", d.Outstanding())
	}
}

func TestRegs(t *testing.T) {
	r := NewRegs(64)
	var wrote []uint64
	r.Write = func(off uint64, width int, v uint64) { wrote = append(wrote, off, uint64(width), v) }
	r.Write32(8, 0xdeadbeef)
	if got := r.Read32(8); got != 0xdeadbeef {
		t.Errorf("Read32 = %#x", got)
	}
	if got := r.Read16(10); got != 0xdead {
		t.Errorf("Read16 = %#x", got)
	}
	if len(wrote) != 3 || wrote[0] != 8 || wrote[1] != 4 {
		t.Errorf("Write saw %v", wrote)
	}
	for _, bad := range []func(){func() { r.Read32(62) }, func() { r.Read64(4) }, func() { r.Write8(64, 0) }} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("a bad access did not panic")
				}
			}()
			bad()
		}()
	}
}

func TestIRQMasksUntilAck(t *testing.T) {
	q := NewIRQ()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	q.Raise()
	if err := q.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	q.Raise() // while masked: pending
	short, c2 := context.WithTimeout(ctx, 10*time.Millisecond)
	defer c2()
	if err := q.Wait(short); err == nil {
		t.Fatal("Wait returned while masked")
	}
	q.Ack()
	if err := q.Wait(ctx); err != nil {
		t.Fatalf("the interrupt raised while masked was lost: %v", err)
	}
}
