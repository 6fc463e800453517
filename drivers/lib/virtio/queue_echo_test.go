package virtio_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"valence.dev/drivers/lib/dev"
	"valence.dev/drivers/lib/virtio"
	"valence.dev/drivers/lib/virtio/virtiotest"
)

// echoRig is a device with the Echo backend, one queue, initialised, with
// its interrupts served: events on queue 0 and config changes are
// signalled on channels.
type echoRig struct {
	d      *virtiotest.Device
	tr     *virtio.Transport
	q      *virtio.Queue
	used   chan struct{}
	config chan struct{}
}

func newEchoRig(t *testing.T, size uint16, msix int) *echoRig {
	t.Helper()
	d, tr := newDevice(t, virtiotest.Options{
		Features: featV1, QueueSizes: []uint16{size}, MSIXVectors: msix, NotifyMultiplier: 2,
	})
	q, step, err := initialise(d, tr, 0, 0)
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	r := &echoRig{d: d, tr: tr, q: q, used: make(chan struct{}, 1), config: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error)
	go func() {
		served <- tr.Serve(ctx, virtio.Handler{
			Queue:  func(uint16) { signal(r.used) },
			Config: func() { signal(r.config) },
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return r
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func wait(t *testing.T, c chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s interrupt", what)
	}
}

// slot is one request buffer: 32 bytes the device reads, 32 it writes.
func allocSlots(t *testing.T, dma dev.DMA, n int) []*dev.Buffer {
	slots := make([]*dev.Buffer, n)
	for i := range slots {
		b, err := dma.Alloc(64, 64)
		if err != nil {
			t.Fatal(err)
		}
		slots[i] = b
	}
	return slots
}

func echoSegs(b *dev.Buffer) []virtio.Segment {
	return []virtio.Segment{{Addr: b.Addr, Len: 32}, {Addr: b.Addr + 32, Len: 32, Write: true}}
}

// TestWraparound runs many operations through small queues, so that the
// rings wrap many times and (in the longest case) the 16-bit ring indices
// wrap too.
func TestWraparound(t *testing.T) {
	for _, c := range []struct {
		name string
		size uint16
		msix int
		ops  int
	}{
		{"size 2 intx", 2, 0, 3000},
		{"size 8 msix 1", 8, 1, 5000},
		{"size 16 msix 3 past 2^16", 16, 3, 70000},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newEchoRig(t, c.size, c.msix)
			slots := allocSlots(t, r.d.DMA, int(c.size)/2)
			free := make([]int, 0, len(slots))
			for i := range slots {
				free = append(free, i)
			}
			done, started := 0, 0
			for done < c.ops {
				for len(free) > 0 && started < c.ops {
					s := free[len(free)-1]
					free = free[:len(free)-1]
					b := slots[s].Bytes
					binary.LittleEndian.PutUint64(b, uint64(started))
					copy(b[8:32], bytes.Repeat([]byte{byte(started)}, 24))
					clear(b[32:])
					if err := r.q.Add(echoSegs(slots[s]), s); err != nil {
						t.Fatalf("op %d: Add: %v", started, err)
					}
					started++
				}
				r.q.Kick()
				wait(t, r.used, "queue")
				got, err := r.q.Harvest()
				if err != nil {
					t.Fatalf("after %d ops: Harvest: %v", done, err)
				}
				for _, u := range got {
					s := u.Token.(int)
					b := slots[s].Bytes
					if u.Written != 32 || !bytes.Equal(b[:32], b[32:64]) {
						t.Fatalf("op %d: written %d, echo % x of % x", binary.LittleEndian.Uint64(b), u.Written, b[32:64], b[:32])
					}
					free = append(free, s)
					done++
				}
			}
			if r.q.InFlight() != 0 || r.q.Free() != int(c.size) {
				t.Errorf("after %d ops: %d in flight, %d free descriptors of %d", done, r.q.InFlight(), r.q.Free(), c.size)
			}
			checkViolations(t, r.d)
		})
	}
}

// TestFaults injects each kind of hostile used ring and expects a clear
// error wrapping ErrDevice, after which the queue refuses further use.
func TestFaults(t *testing.T) {
	for _, c := range []struct {
		fault virtiotest.Fault
		msg   string
	}{
		{virtiotest.FaultUsedIDOutOfRange, "out of range"},
		{virtiotest.FaultUsedIDNotInFlight, "not a chain in flight"},
		{virtiotest.FaultUsedLenTooLarge, "exceeds the chain's 32 writable bytes"},
		{virtiotest.FaultUsedIdxJump, "entries past"},
	} {
		t.Run(c.msg, func(t *testing.T) {
			r := newEchoRig(t, 8, 0)
			slots := allocSlots(t, r.d.DMA, 2)
			r.d.Inject(c.fault)
			if err := r.q.Add(echoSegs(slots[0]), 0); err != nil {
				t.Fatal(err)
			}
			r.q.Kick()
			wait(t, r.used, "queue")
			_, err := r.q.Harvest()
			if !errors.Is(err, virtio.ErrDevice) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("Harvest = %v, want ErrDevice saying %q", err, c.msg)
			}
			if err2 := r.q.Add(echoSegs(slots[1]), 1); !errors.Is(err2, virtio.ErrDevice) {
				t.Errorf("Add after a device fault = %v, want the fault", err2)
			}
			if _, err2 := r.q.Harvest(); !errors.Is(err2, virtio.ErrDevice) {
				t.Errorf("Harvest after a device fault = %v, want the fault", err2)
			}
			// The driver resets the device, then fails what was in flight.
			if err := r.tr.Reset(context.Background()); err != nil {
				t.Fatal(err)
			}
			if tokens := r.q.Drain(); len(tokens) > 1 {
				t.Errorf("Drain = %v", tokens)
			}
			checkViolations(t, r.d)
		})
	}
}

func TestNeedsReset(t *testing.T) {
	for _, msix := range []int{0, 1, 2} {
		r := newEchoRig(t, 8, msix)
		if err := r.tr.CheckStatus(); err != nil {
			t.Fatalf("CheckStatus before = %v", err)
		}
		r.d.NeedsReset()
		wait(t, r.config, "configuration")
		if err := r.tr.CheckStatus(); !errors.Is(err, virtio.ErrNeedsReset) {
			t.Errorf("msix %d: CheckStatus = %v, want ErrNeedsReset", msix, err)
		}
		checkViolations(t, r.d)
	}
}

// TestDMAFault shows the fake device catching a descriptor whose address
// is not the driver's DMA memory: it halts and asks for a reset rather
// than reading stray memory.
func TestDMAFault(t *testing.T) {
	r := newEchoRig(t, 8, 0)
	if err := r.q.Add([]virtio.Segment{{Addr: 0xdead0000, Len: 16}}, 0); err != nil {
		t.Fatal(err)
	}
	r.q.Kick()
	wait(t, r.config, "configuration")
	if err := r.tr.CheckStatus(); !errors.Is(err, virtio.ErrNeedsReset) {
		t.Errorf("CheckStatus = %v, want ErrNeedsReset", err)
	}
	if v := r.d.Violations(); len(v) != 1 || !strings.Contains(v[0], "DMA fault") {
		t.Errorf("violations %q, want one DMA fault", v)
	}
}
