package virtio_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/drivers/lib/dev"
	"valence.dev/drivers/lib/virtio"
	"valence.dev/drivers/lib/virtio/virtiotest"
)

const (
	featNetMAC    = 1 << 5
	featEventIdx  = virtio.FeatureEventIdx
	featV1        = virtio.FeatureVersion1
	featPlatform  = virtio.FeatureAccessPlatform
	featRingReset = 1 << 40
)

func newDevice(t *testing.T, o virtiotest.Options) (*virtiotest.Device, *virtio.Transport) {
	t.Helper()
	d := virtiotest.New(o)
	t.Cleanup(d.Close)
	tr, err := d.Transport()
	if err != nil {
		t.Fatalf("transport: %v", err)
	}
	return d, tr
}

func checkViolations(t *testing.T, d *virtiotest.Device) {
	t.Helper()
	if v := d.Violations(); len(v) > 0 {
		t.Errorf("device saw spec violations:\n%s", strings.Join(v, "\n"))
	}
}

// initialise runs the whole §3.1.1 sequence for one queue, returning the
// step that failed.
func initialise(d *virtiotest.Device, tr *virtio.Transport, want uint64, maxSize uint16) (*virtio.Queue, string, error) {
	ctx := context.Background()
	if _, err := tr.Negotiate(ctx, want); err != nil {
		return nil, "negotiate", err
	}
	if err := tr.UseInterrupts(d.Interrupts()); err != nil {
		return nil, "interrupts", err
	}
	if tr.ConfigLen() > 0 {
		if err := tr.ReadConfig(func(cfg dev.Regs) { cfg.Read32(0) }); err != nil {
			return nil, "config", err
		}
	}
	q, err := tr.SetupQueue(0, d.DMA, maxSize)
	if err != nil {
		return nil, "queue", err
	}
	if err := tr.Ready(); err != nil {
		return nil, "ready", err
	}
	return q, "", nil
}

func TestInitialisation(t *testing.T) {
	base := virtiotest.Options{
		Features:         featV1 | featPlatform | featEventIdx | featNetMAC | featRingReset,
		QueueSizes:       []uint16{256},
		NotifyMultiplier: 4,
	}
	with := func(f func(*virtiotest.Options)) virtiotest.Options {
		o := base
		f(&o)
		return o
	}
	for _, c := range []struct {
		name      string
		opts      virtiotest.Options
		maxSize   uint16
		step      string // "" for success
		err       error  // sentinel the error wraps
		wantFeat  uint64
		wantSize  uint16
		wantState uint8
	}{
		{name: "intx", opts: base, wantFeat: featV1 | featPlatform | featNetMAC, wantSize: 256, wantState: 0x0f},
		{name: "msix one vector", opts: with(func(o *virtiotest.Options) { o.MSIXVectors = 1 }), wantFeat: featV1 | featPlatform | featNetMAC, wantSize: 256, wantState: 0x0f},
		{name: "msix three vectors, smaller queue", opts: with(func(o *virtiotest.Options) { o.MSIXVectors = 3 }), maxSize: 100,
			wantFeat: featV1 | featPlatform | featNetMAC, wantSize: 64, wantState: 0x0f},
		{name: "multiplier zero", opts: with(func(o *virtiotest.Options) { o.NotifyMultiplier = 0 }), wantFeat: featV1 | featPlatform | featNetMAC, wantSize: 256, wantState: 0x0f},
		{name: "with config", opts: with(func(o *virtiotest.Options) { o.Config = make([]byte, 8) }), wantFeat: featV1 | featPlatform | featNetMAC, wantSize: 256, wantState: 0x0f},
		{name: "no VERSION_1", opts: with(func(o *virtiotest.Options) { o.Features &^= featV1 }), step: "negotiate", err: virtio.ErrNoVersion1, wantState: 0x83},
		{name: "features refused", opts: with(func(o *virtiotest.Options) { o.RefuseFeatures = true }), step: "negotiate", err: virtio.ErrFeaturesRefused, wantFeat: featV1 | featPlatform | featNetMAC, wantState: 0x83},
		{name: "queue size zero", opts: with(func(o *virtiotest.Options) { o.QueueSizes = []uint16{0} }), step: "queue", err: virtio.ErrDevice, wantFeat: featV1 | featPlatform | featNetMAC, wantState: 0x0b},
		{name: "queue size not a power of 2", opts: with(func(o *virtiotest.Options) { o.QueueSizes = []uint16{100} }), step: "queue", err: virtio.ErrDevice, wantFeat: featV1 | featPlatform | featNetMAC, wantState: 0x0b},
		{name: "config vector refused", opts: with(func(o *virtiotest.Options) { o.MSIXVectors = 2; o.RefuseVectors = true }), step: "interrupts", err: virtio.ErrNoVector, wantFeat: featV1 | featPlatform | featNetMAC, wantState: 0x0b},
		{name: "notify offset outside", opts: with(func(o *virtiotest.Options) { o.BadNotifyOff = true }), step: "queue", err: virtio.ErrDevice, wantFeat: featV1 | featPlatform | featNetMAC, wantState: 0x0b},
		{name: "config never stable", opts: with(func(o *virtiotest.Options) { o.Config = make([]byte, 8); o.UnstableConfig = true }), step: "config", err: virtio.ErrDevice, wantFeat: featV1 | featPlatform | featNetMAC, wantState: 0x0b},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, tr := newDevice(t, c.opts)
			_, step, err := initialise(d, tr, featNetMAC|featEventIdx|featRingReset, c.maxSize)
			if step != c.step || (c.err != nil && !errors.Is(err, c.err)) {
				t.Fatalf("failed at %q with %v; want step %q, error %v", step, err, c.step, c.err)
			}
			got := struct {
				Feat   uint64
				Size   uint16
				Status uint8
			}{d.DriverFeatures(), 0, d.Status()}
			if step == "" {
				got.Size = d.QueueSize(0)
			}
			want := struct {
				Feat   uint64
				Size   uint16
				Status uint8
			}{c.wantFeat, c.wantSize, c.wantState}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("device state (-want +got):\n%s", diff)
			}
			checkViolations(t, d)
		})
	}
}

func TestNoUsableNotifyCapability(t *testing.T) {
	d := virtiotest.New(virtiotest.Options{Features: featV1, QueueSizes: []uint16{8}, NotifyMultiplier: 3})
	defer d.Close()
	if _, err := d.Transport(); err == nil {
		t.Fatal("a notify_off_multiplier of 3 was accepted")
	}
}

func TestResetFreesRings(t *testing.T) {
	d, tr := newDevice(t, virtiotest.Options{Features: featV1, QueueSizes: []uint16{64}, NotifyMultiplier: 4})
	q, step, err := initialise(d, tr, 0, 0)
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	if err := tr.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := d.DMA.Outstanding(); n != 0 {
		t.Errorf("%d DMA buffers outstanding after Close", n)
	}
	if err := q.Add([]virtio.Segment{{Addr: 1, Len: 1}}, nil); !errors.Is(err, virtio.ErrClosed) {
		t.Errorf("Add after Close = %v, want ErrClosed", err)
	}
	if d.Status() != 0 {
		t.Errorf("status %#x after Close", d.Status())
	}
	checkViolations(t, d)
}
