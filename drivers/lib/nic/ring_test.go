package nic

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// bytesEqual compares frames as wholes: cmp's element-wise walk of
// thousands of frames is slow under the race detector.
var bytesEqual = cmp.Comparer(bytes.Equal)

// pair is both ends of rings over one []byte, with the notifications and
// detaches counted.
type pair struct {
	mem      []byte
	d        *DriverRing
	c        *ClientRing
	rxNotes  int // driver -> client
	txNotes  int // client -> driver
	detaches []error
}

func newPair(t *testing.T, slots, start uint32) *pair {
	t.Helper()
	p := &pair{mem: make([]byte, MemSize(slots))}
	var err error
	p.d, err = newDriverRing(p.mem, slots, DriverHooks{
		Notify:   func() { p.rxNotes++ },
		Detached: func(err error) { p.detaches = append(p.detaches, err) },
	}, start)
	if err != nil {
		t.Fatal(err)
	}
	if p.c, err = NewClientRing(p.mem, slots, func() { p.txNotes++ }); err != nil {
		t.Fatal(err)
	}
	return p
}

// frame returns a distinct frame for sequence number i, of a length that
// varies over the whole allowed range.
func frame(i int) []byte {
	n := MinFrame + (i*97)%(MaxFrame-MinFrame+1)
	f := make([]byte, n)
	binary.LittleEndian.PutUint64(f, uint64(i))
	for j := 8; j < n; j++ {
		f[j] = byte(i + j)
	}
	return f
}

func (p *pair) drain(t *testing.T) [][]byte {
	t.Helper()
	var got [][]byte
	if _, err := p.d.Drain(func(f []byte) error { got = append(got, append([]byte(nil), f...)); return nil }); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	return got
}

func TestRingWraparound(t *testing.T) {
	for _, c := range []struct {
		slots uint32
		start uint32
		batch int
	}{
		{slots: 1, start: 0, batch: 1},
		{slots: 4, start: math.MaxUint32 - 5, batch: 3},
		{slots: 8, start: math.MaxUint32 - 100, batch: 8},
		{slots: 256, start: math.MaxUint32 - 1000, batch: 200},
		{slots: 256, start: 12345, batch: 17},
	} {
		t.Run(fmt.Sprintf("slots=%d,start=%#x,batch=%d", c.slots, c.start, c.batch), func(t *testing.T) {
			p := newPair(t, c.slots, c.start)
			var sent, drained, delivered, received [][]byte
			for i := 0; len(sent) < 3000; i++ {
				for range c.batch {
					f := frame(len(sent))
					if err := p.c.Send(f); err != nil {
						t.Fatalf("Send %d: %v", len(sent), err)
					}
					sent = append(sent, f)
					g := frame(1<<20 + len(delivered))
					if err := p.d.Deliver(g); err != nil {
						t.Fatalf("Deliver %d: %v", len(delivered), err)
					}
					delivered = append(delivered, g)
				}
				drained = append(drained, p.drain(t)...)
				for {
					f, err := p.c.Receive()
					if err != nil {
						t.Fatalf("Receive: %v", err)
					}
					if f == nil {
						break
					}
					received = append(received, f)
				}
			}
			if diff := cmp.Diff(sent, drained, bytesEqual); diff != "" {
				t.Errorf("transmit ring (-sent +drained):\n%s", diff)
			}
			if diff := cmp.Diff(delivered, received, bytesEqual); diff != "" {
				t.Errorf("receive ring (-delivered +received):\n%s", diff)
			}
			if got, want := p.txNotes, len(sent); got != want {
				t.Errorf("client notified the driver %d times, want %d", got, want)
			}
			if got, want := p.rxNotes, len(delivered); got != want {
				t.Errorf("driver notified the client %d times, want %d", got, want)
			}
			if len(p.detaches) != 0 || p.d.Err() != nil {
				t.Errorf("detached: %v", p.detaches)
			}
			// Indices went past 2^32 where start was near it.
			if end := c.start + uint32(len(sent)); c.start > math.MaxUint32-3000 && end > c.start {
				t.Errorf("indices ended at %d without wrapping", end)
			}
		})
	}
}

func TestRingFull(t *testing.T) {
	for _, slots := range []uint32{1, 2, 16} {
		t.Run(fmt.Sprint(slots), func(t *testing.T) {
			p := newPair(t, slots, math.MaxUint32-slots/2)
			for i := range int(slots) {
				if err := p.c.Send(frame(i)); err != nil {
					t.Fatalf("Send %d: %v", i, err)
				}
				if err := p.d.Deliver(frame(i)); err != nil {
					t.Fatalf("Deliver %d: %v", i, err)
				}
			}
			if err := p.c.Send(frame(99)); !errors.Is(err, ErrFull) {
				t.Errorf("Send to a full ring: %v, want ErrFull", err)
			}
			if err := p.d.Deliver(frame(99)); !errors.Is(err, ErrFull) {
				t.Errorf("Deliver to a full ring: %v, want ErrFull", err)
			}
			// One slot freed on each ring makes room for exactly one.
			n := 0
			if _, err := p.d.Drain(func([]byte) error { n++; return errors.New("device busy") }); err == nil || n != 1 {
				t.Fatalf("Drain with a failing send took %d frames, err %v; want 1 and the error", n, err)
			}
			if f, err := p.c.Receive(); err != nil || f == nil {
				t.Fatalf("Receive: %v, %v", f, err)
			}
			for _, err := range []error{p.c.Send(frame(100)), p.d.Deliver(frame(100))} {
				if err != nil {
					t.Errorf("after freeing a slot: %v", err)
				}
			}
			if err := p.c.Send(frame(101)); !errors.Is(err, ErrFull) {
				t.Errorf("Send: %v, want ErrFull", err)
			}
			if err := p.d.Deliver(frame(101)); !errors.Is(err, ErrFull) {
				t.Errorf("Deliver: %v, want ErrFull", err)
			}
			if p.d.Err() != nil {
				t.Errorf("a full ring detached the client: %v", p.d.Err())
			}
		})
	}
}

func TestFrameSizes(t *testing.T) {
	p := newPair(t, 4, 0)
	for _, n := range []int{0, MinFrame - 1, MaxFrame + 1, 65535} {
		if err := p.c.Send(make([]byte, n)); !errors.Is(err, ErrFrameSize) {
			t.Errorf("Send of %d bytes: %v, want ErrFrameSize", n, err)
		}
		if err := p.d.Deliver(make([]byte, n)); !errors.Is(err, ErrFrameSize) {
			t.Errorf("Deliver of %d bytes: %v, want ErrFrameSize", n, err)
		}
	}
	if p.d.Err() != nil {
		t.Errorf("the driver's own bad frame detached the client: %v", p.d.Err())
	}
}

// TestHostileClient writes what a client must not into the shared memory
// and checks the driver detaches it, once, without touching memory out of
// range, after passing on the frames that came before the bad one.
func TestHostileClient(t *testing.T) {
	const slots = 8
	setLen := func(p *pair, idx uint32, n uint16) {
		binary.LittleEndian.PutUint16(p.d.sh.txSlot(idx), n)
	}
	for _, c := range []struct {
		name     string
		good     int // valid frames sent first
		corrupt  func(p *pair)
		deliver  bool // the violation shows on Deliver, not Drain
		wantSent int
	}{
		{name: "head one past full", corrupt: func(p *pair) { p.d.sh.store(OffTxHead, slots+1) }},
		{name: "head behind tail", good: 3, corrupt: func(p *pair) {
			p.d.Drain(func([]byte) error { return nil })
			p.d.sh.store(OffTxHead, 2)
		}},
		{name: "head far ahead", corrupt: func(p *pair) { p.d.sh.store(OffTxHead, math.MaxUint32/2) }},
		{name: "length 0", good: 2, corrupt: func(p *pair) { setLen(p, 1, 0) }, wantSent: 1},
		{name: "length 13", good: 3, corrupt: func(p *pair) { setLen(p, 2, MinFrame-1) }, wantSent: 2},
		{name: "length 1515", good: 1, corrupt: func(p *pair) { setLen(p, 0, MaxFrame+1) }},
		{name: "length 65535", good: 4, corrupt: func(p *pair) { setLen(p, 3, math.MaxUint16) }, wantSent: 3},
		{name: "length of a slot", good: 1, corrupt: func(p *pair) { setLen(p, 0, SlotSize) }},
		{name: "rx tail past head", deliver: true, corrupt: func(p *pair) { p.d.sh.store(OffRxTail, 1) }},
		{name: "rx tail far behind", deliver: true, corrupt: func(p *pair) { p.d.sh.store(OffRxTail, math.MaxUint32-slots) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newPair(t, slots, 0)
			for i := range c.good {
				if err := p.c.Send(frame(i)); err != nil {
					t.Fatal(err)
				}
			}
			c.corrupt(p)
			sent := 0
			var err error
			if c.deliver {
				err = p.d.Deliver(frame(0))
			} else {
				_, err = p.d.Drain(func([]byte) error { sent++; return nil })
			}
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("got %v, want ErrProtocol", err)
			}
			if sent != c.wantSent {
				t.Errorf("sent %d frames before the bad one, want %d", sent, c.wantSent)
			}
			// Dead for good: both directions refuse, with the same error.
			_, err2 := p.d.Drain(func([]byte) error { sent++; return nil })
			err3 := p.d.Deliver(frame(1))
			p.d.Detach(errors.New("again"))
			if err2 != err || err3 != err || sent != c.wantSent {
				t.Errorf("after detaching: Drain %v, Deliver %v, sent %d; want %v and no frames", err2, err3, sent, err)
			}
			if len(p.detaches) != 1 {
				t.Errorf("Detached hook called %d times, want once", len(p.detaches))
			}
			if p.d.sh.load(OffFlags)&FlagDetached == 0 || !p.c.Detached() {
				t.Error("FlagDetached not set")
			}
			if p.rxNotes == 0 {
				t.Error("the client was not notified of its detach")
			}
			if err := p.c.Send(frame(9)); !errors.Is(err, ErrDetached) && !errors.Is(err, ErrProtocol) && !errors.Is(err, ErrFull) {
				t.Errorf("client Send after detach: %v", err)
			}
		})
	}
}

// TestHostileDriver is the client's side of the same checks.
func TestHostileDriver(t *testing.T) {
	const slots = 4
	for _, c := range []struct {
		name    string
		corrupt func(p *pair)
		send    bool
	}{
		{name: "rx head far ahead", corrupt: func(p *pair) { p.d.sh.store(OffRxHead, slots+1) }},
		{name: "rx length 0", corrupt: func(p *pair) {
			p.d.Deliver(frame(0))
			binary.LittleEndian.PutUint16(p.d.sh.rxSlot(0), 0)
		}},
		{name: "rx length 2000", corrupt: func(p *pair) {
			p.d.Deliver(frame(0))
			binary.LittleEndian.PutUint16(p.d.sh.rxSlot(0), 2000)
		}},
		{name: "tx tail past head", send: true, corrupt: func(p *pair) { p.d.sh.store(OffTxTail, 3) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newPair(t, slots, 0)
			c.corrupt(p)
			var err error
			if c.send {
				err = p.c.Send(frame(1))
			} else {
				_, err = p.c.Receive()
			}
			if !errors.Is(err, ErrProtocol) {
				t.Errorf("got %v, want ErrProtocol", err)
			}
		})
	}
}

func TestNewRingChecks(t *testing.T) {
	big := make([]byte, MemSize(8)+8)
	for _, c := range []struct {
		name  string
		mem   []byte
		slots uint32
	}{
		{"zero slots", big, 0},
		{"not a power of two", big, 6},
		{"too many slots", make([]byte, MemSize(2*MaxSlots)), 2 * MaxSlots},
		{"short memory", big[:MemSize(8)-1], 8},
		{"misaligned", big[4:], 8},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := NewDriverRing(c.mem, c.slots, DriverHooks{}); err == nil {
				t.Error("NewDriverRing accepted it")
			}
			if _, err := NewClientRing(c.mem, c.slots, nil); err == nil {
				t.Error("NewClientRing accepted it")
			}
		})
	}
	// The client checks the slots the reply gives against the memory.
	mem := make([]byte, MemSize(16))
	if _, err := NewDriverRing(mem, 8, DriverHooks{}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewClientRing(mem, 16, nil); !errors.Is(err, ErrProtocol) {
		t.Errorf("NewClientRing with the wrong slots: %v, want ErrProtocol", err)
	}
}

// TestRingConcurrent runs both ends on their own goroutines, as driver and
// client processes do, for the race detector.
func TestRingConcurrent(t *testing.T) {
	const n, slots = 20000, 16
	mem := make([]byte, MemSize(slots))
	txReady, rxReady := make(chan struct{}, 1), make(chan struct{}, 1)
	poke := func(c chan struct{}) func() {
		return func() {
			select {
			case c <- struct{}{}:
			default:
			}
		}
	}
	d, err := newDriverRing(mem, slots, DriverHooks{Notify: poke(rxReady)}, math.MaxUint32-n/2)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClientRing(mem, slots, poke(txReady))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var drained [][]byte
	wg.Go(func() { // driver: drain and echo back
		for len(drained) < n {
			<-txReady
			var batch [][]byte
			if _, err := d.Drain(func(f []byte) error { batch = append(batch, append([]byte(nil), f...)); return nil }); err != nil {
				t.Error(err)
				return
			}
			for _, f := range batch {
				for errors.Is(d.Deliver(f), ErrFull) {
					<-txReady // the client frees rx slots as it goes; it pokes after each Send
				}
			}
			drained = append(drained, batch...)
		}
	})
	var received [][]byte
	for i := 0; len(received) < n; {
		for i < n {
			if err := c.Send(frame(i)); errors.Is(err, ErrFull) {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			i++
		}
		f, err := c.Receive()
		if err != nil {
			t.Fatal(err)
		}
		if f != nil {
			received = append(received, f)
			poke(txReady)() // a receive slot is free
			continue
		}
		<-rxReady // nothing to receive: wait for the driver
	}
	wg.Wait()
	want := make([][]byte, n)
	for i := range want {
		want[i] = frame(i)
	}
	if diff := cmp.Diff(want, received, bytesEqual); diff != "" {
		t.Errorf("frames echoed (-want +got):\n%s", diff)
	}
}
