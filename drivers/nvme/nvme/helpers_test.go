package nvme_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"valence.dev/drivers/lib/block"
	"valence.dev/drivers/lib/dev"
	"valence.dev/drivers/nvme/internal/fakenvme"
	"valence.dev/drivers/nvme/nvme"
)

// rig is a driver on a fake controller.
type rig struct {
	t    *testing.T
	fake *fakenvme.Controller
	ctl  *nvme.Controller
}

// start brings a driver up on a fake; err is New's. Cleanup closes both
// and checks that every DMA buffer came back.
func start(t *testing.T, cfg fakenvme.Config, faults fakenvme.Faults, opts nvme.Options) (*rig, error) {
	t.Helper()
	if opts.Name == "" {
		opts.Name = "nvme0"
	}
	f := fakenvme.New(cfg)
	f.SetFaults(faults)
	r := &rig{t: t, fake: f}
	ctl, err := nvme.New(f.Regs, f.DMA, f.IRQ, opts)
	r.ctl = ctl
	t.Cleanup(func() {
		if ctl != nil {
			if err := ctl.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
		f.Close()
		if n := f.DMA.Outstanding(); n != 0 {
			t.Errorf("%d DMA buffers not freed", n)
		}
	})
	return r, err
}

// mustStart is start for tests that need a working controller.
func mustStart(t *testing.T, cfg fakenvme.Config, opts nvme.Options) *rig {
	t.Helper()
	r, err := start(t, cfg, fakenvme.Faults{}, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

// buffer allocates DMA memory for the driver's client.
func (r *rig) buffer(size uint64) *dev.Buffer {
	b, err := r.fake.DMA.Alloc(size, 4096)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { r.fake.DMA.Free(b) })
	return b
}

// submit sends a request and returns a channel that gets its result;
// it fails the test if Done is called more than once.
func (r *rig) submit(req block.Request) <-chan error {
	ch := make(chan error, 2)
	calls := 0
	req.Done = func(err error) {
		calls++
		if calls > 1 {
			r.t.Errorf("Done called %d times for %v LBA %d", calls, req.Op, req.LBA)
		}
		ch <- err
	}
	r.ctl.Submit(&req)
	return ch
}

// wait returns a request's result, or fails the test after a while.
func (r *rig) wait(ch <-chan error) error {
	r.t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		r.t.Fatal("Done was not called within 10 s")
		return nil
	}
}

func (r *rig) do(req block.Request) error {
	r.t.Helper()
	return r.wait(r.submit(req))
}

// checkErr reports whether err matches want (nil: success) and mentions
// every substring.
func checkErr(t *testing.T, what string, err, want error, mentions ...string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Errorf("%s: error %v, want success", what, err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Errorf("%s: error %v, want one wrapping %q", what, err, want)
		return
	}
	for _, s := range mentions {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%s: error %q does not mention %q", what, err, s)
		}
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
