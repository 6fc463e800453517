package netdev

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"valence.dev/drivers/lib/virtio"
	"valence.dev/drivers/lib/virtio/virtiotest"
)

var testMAC = [6]byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}

type rig struct {
	d   *virtiotest.Device
	net *virtiotest.Net
	nic *NIC
}

func options(features uint64, qsize uint16, msix int, status uint16) virtiotest.Options {
	return virtiotest.Options{
		Features:         features,
		QueueSizes:       []uint16{qsize, qsize},
		MSIXVectors:      msix,
		NotifyMultiplier: 4,
		Config:           virtiotest.NetConfig(testMAC, status),
		Backend:          &virtiotest.Net{Loopback: true},
	}
}

const allFeatures = virtio.FeatureVersion1 | FeatureMAC | FeatureStatus | FeatureMRGRxBuf

func open(t *testing.T, o virtiotest.Options) (*rig, error) {
	t.Helper()
	d := virtiotest.New(o)
	t.Cleanup(d.Close)
	tr, err := d.Transport()
	if err != nil {
		t.Fatal(err)
	}
	nic, err := Open(context.Background(), tr, d.DMA, d.Interrupts())
	r := &rig{d: d, net: o.Backend.(*virtiotest.Net), nic: nic}
	if err == nil {
		t.Cleanup(func() { r.close(t) })
	}
	return r, err
}

func (r *rig) close(t *testing.T) {
	t.Helper()
	if err := r.nic.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if n := r.d.DMA.Outstanding(); n != 0 {
		t.Errorf("%d DMA buffers outstanding after Close", n)
	}
	if v := r.d.Violations(); len(v) > 0 {
		t.Errorf("device saw spec violations:\n%s", strings.Join(v, "\n"))
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestOpen(t *testing.T) {
	for _, c := range []struct {
		name     string
		opts     virtiotest.Options
		wantFeat uint64
		wantLink bool
	}{
		{"mac and status, intx", options(allFeatures, 256, 0, 1), virtio.FeatureVersion1 | FeatureMAC | FeatureStatus, true},
		{"link down, msix 3", options(allFeatures, 64, 3, 0), virtio.FeatureVersion1 | FeatureMAC | FeatureStatus, false},
		{"no status: link assumed up", options(virtio.FeatureVersion1|FeatureMAC, 512, 1, 0), virtio.FeatureVersion1 | FeatureMAC, true},
		{"no mac", options(virtio.FeatureVersion1|FeatureStatus, 8, 0, 1), virtio.FeatureVersion1 | FeatureStatus, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := open(t, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.nic.Features(); got != c.wantFeat {
				t.Errorf("features %#x, want %#x", got, c.wantFeat)
			}
			if got := r.nic.LinkUp(); got != c.wantLink {
				t.Errorf("LinkUp = %v, want %v", got, c.wantLink)
			}
			mac := r.nic.MAC()
			if c.wantFeat&FeatureMAC != 0 && mac != testMAC {
				t.Errorf("MAC %x, want %x", mac, testMAC)
			}
			if c.wantFeat&FeatureMAC == 0 && (mac[0]&3 != 2 || mac == testMAC) {
				t.Errorf("made-up MAC %x is not a random local unicast address", mac)
			}
			size := min(int(c.opts.QueueSizes[0]), maxQueueSize)
			eventually(t, "receive queue filled", func() bool { return r.net.RxBuffers() == size })
		})
	}
}

func TestOpenRefused(t *testing.T) {
	o := options(FeatureMAC|FeatureStatus, 16, 0, 1) // no VERSION_1
	r, err := open(t, o)
	if !errors.Is(err, virtio.ErrNoVersion1) {
		t.Fatalf("Open = %v, want ErrNoVersion1", err)
	}
	if s := r.d.Status(); s&virtio.StatusFailed == 0 {
		t.Errorf("status %#x, want FAILED", s)
	}
	o = options(allFeatures, 16, 0, 1)
	o.QueueSizes = o.QueueSizes[:1] // no transmit queue
	if _, err := open(t, o); !errors.Is(err, virtio.ErrDevice) {
		t.Errorf("Open without transmitq = %v, want ErrDevice", err)
	}
}

func frame(i int) []byte {
	n := MinFrame + (i*37)%(MaxFrame-MinFrame+1)
	f := make([]byte, n)
	copy(f, testMAC[:])
	for j := 6; j < n; j++ {
		f[j] = byte(i + j)
	}
	return f
}

// TestLoopback sends frames from several goroutines through small queues
// (so transmit slots run out and the rings wrap) and receives each back.
func TestLoopback(t *testing.T) {
	for _, c := range []struct {
		name    string
		qsize   uint16
		msix    int
		senders int
		frames  int
	}{
		{"intx, queue 8", 8, 0, 1, 500},
		{"msix 3, queue 16, 4 senders", 16, 3, 4, 2000},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := open(t, options(allFeatures, c.qsize, c.msix, 1))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var wg sync.WaitGroup
			per := c.frames / c.senders
			for s := range c.senders {
				wg.Go(func() {
					for i := range per {
						if err := r.nic.Send(ctx, frame(s*per+i)); err != nil {
							t.Errorf("Send %d: %v", s*per+i, err)
							return
						}
					}
				})
			}
			got := map[string]int{}
			for range per * c.senders {
				f, err := r.nic.Receive(ctx)
				if err != nil {
					t.Fatalf("Receive after %d: %v (stats %+v)", len(got), err, r.nic.Stats())
				}
				got[string(f)]++
			}
			wg.Wait()
			want := map[string]int{}
			for i := range per * c.senders {
				want[string(frame(i))]++
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("frames received differ (-want +got):\n%.2000s", diff)
			}
			if s := r.nic.Stats(); s.TxFrames != uint64(c.frames) || s.RxFrames != uint64(c.frames) || s.RxErrors != 0 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

func TestWire(t *testing.T) {
	o := options(allFeatures, 32, 2, 1)
	o.Backend = &virtiotest.Net{}
	r, err := open(t, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var sent [][]byte
	for i := range 100 {
		if err := r.nic.Send(ctx, frame(i)); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, frame(i))
	}
	eventually(t, "frames on the wire", func() bool { return len(r.net.Sent()) == len(sent) })
	if diff := cmp.Diff(sent, r.net.Sent()); diff != "" {
		t.Errorf("frames on the wire (-want +got):\n%.2000s", diff)
	}
	eventually(t, "receive queue filled", func() bool { return r.net.RxBuffers() == 32 })
	for i := range 100 {
		r.net.Deliver(frame(1000 + i))
		f, err := r.nic.Receive(ctx)
		if err != nil || !bytes.Equal(f, frame(1000+i)) {
			t.Fatalf("Receive %d = %x, %v", i, f, err)
		}
	}
}

func TestSendChecks(t *testing.T) {
	r, err := open(t, options(allFeatures, 8, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, MinFrame - 1, MaxFrame + 1} {
		if err := r.nic.Send(context.Background(), make([]byte, n)); err == nil {
			t.Errorf("Send of %d bytes succeeded", n)
		}
	}
}

func TestLinkChange(t *testing.T) {
	r, err := open(t, options(allFeatures, 8, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	r.d.SetConfig(6, []byte{0, 0})
	eventually(t, "link down", func() bool { return !r.nic.LinkUp() })
	r.d.SetConfig(6, []byte{1, 0})
	eventually(t, "link up", func() bool { return r.nic.LinkUp() })
}

// TestDeviceFaults: each misbehaviour stops the NIC with a clear error
// that Receive and Send report.
func TestDeviceFaults(t *testing.T) {
	for _, c := range []struct {
		name   string
		inject func(*virtiotest.Device)
		want   error
		msg    string
	}{
		{"needs reset", func(d *virtiotest.Device) { d.NeedsReset() }, virtio.ErrNeedsReset, "needs reset"},
		{"used id out of range", func(d *virtiotest.Device) { d.Inject(virtiotest.FaultUsedIDOutOfRange) }, virtio.ErrDevice, "out of range"},
		{"used id not in flight", func(d *virtiotest.Device) { d.Inject(virtiotest.FaultUsedIDNotInFlight) }, virtio.ErrDevice, "not a chain in flight"},
		{"used len too large", func(d *virtiotest.Device) { d.Inject(virtiotest.FaultUsedLenTooLarge) }, virtio.ErrDevice, "writable bytes"},
		{"used idx jump", func(d *virtiotest.Device) { d.Inject(virtiotest.FaultUsedIdxJump) }, virtio.ErrDevice, "entries past"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := open(t, options(allFeatures, 16, 0, 1))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c.inject(r.d)
			go func() {
				for i := 0; ; i++ {
					if r.nic.Send(ctx, frame(i)) != nil {
						return
					}
				}
			}()
			for {
				_, err = r.nic.Receive(ctx)
				if err != nil {
					break
				}
			}
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("Receive = %v, want %v saying %q", err, c.want, c.msg)
			}
			if err := r.nic.Send(ctx, frame(0)); !errors.Is(err, c.want) {
				t.Errorf("Send after the fault = %v", err)
			}
		})
	}
}

func TestClose(t *testing.T) {
	r, err := open(t, options(allFeatures, 8, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	r.close(t)
	ctx := context.Background()
	if err := r.nic.Send(ctx, frame(0)); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close = %v", err)
	}
	if _, err := r.nic.Receive(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Receive after Close = %v", err)
	}
	if err := r.nic.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}
