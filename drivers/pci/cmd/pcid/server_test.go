package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/drivers/lib/devreg"
	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
	"valence.dev/ipc/rpc/memtransport"
)

// serveTest runs the registry over an in-memory endpoint with several
// serve loops, as pcid does, and returns it with a driver badge for
// function 2 and a public client.
func serveTest(t *testing.T) (r *Registry, h *fakeHandles, srv *memtransport.Server, driver, public *memtransport.Client) {
	t.Helper()
	r, h, _ = newTestRegistry(t)
	badge := r.Starting(2)
	r.Started(2, 9)
	_, srv = memtransport.New()
	s := NewServer(r, func(string, ...any) {})
	k := newHandleKeeper(srv, h.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveAll(ctx, s, k, 3) }()
	t.Cleanup(func() {
		cancel()
		srv.Close()
		<-done
	})
	return r, h, srv, srv.Client(badge), srv.Client(publicBadge)
}

func TestServeProtocol(t *testing.T) {
	ctx := context.Background()
	_, h, _, driver, public := serveTest(t)
	ep := h.add(ipc.TypeEndpoint, epRights)
	if err := (devreg.Client{T: public}).Register(ctx, "nvme0", "block", h.add(ipc.TypeEndpoint, epRights)); !errors.Is(err, devreg.ErrNotDriver) {
		t.Errorf("Register through the public capability: %v", err)
	}
	if err := (devreg.Client{T: driver}).Register(ctx, "nvme0", "block", ep); err != nil {
		t.Fatalf("Register: %v", err)
	}
	if !h.isLive(ep) {
		t.Fatal("the registered handle was closed")
	}
	rep, err := devreg.Client{T: public}.Lookup(ctx, "nvme0")
	if err != nil || rep.Kind != "block" || !h.isLive(rep.Server) || rep.Server == ep {
		t.Errorf("Lookup: %+v, %v", rep, err)
	}
	fns, err := devreg.Client{T: public}.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := fns[2]; got.State != "running" || got.Name != "nvme0" || got.PID != 9 {
		t.Errorf("List: %+v", got)
	}
}

// TestServeHostile sends what a broken or hostile client might, and
// checks each is answered, nothing handed over is left open, and the
// server still serves afterwards.
func TestServeHostile(t *testing.T) {
	ctx := context.Background()
	_, h, _, driver, public := serveTest(t)
	raw := func(c rpc.Transport, label uint64, data []byte, hs ...ipc.Handle) int32 {
		var req, rep ipc.Message
		req.Label = label
		req.DataLen = uint32(copy(req.Data[:], data))
		req.NHandles = uint32(copy(req.Handles[:], hs))
		if err := c.Call(ctx, &req, &rep); err != nil {
			t.Fatalf("call %d: %v", label, err)
		}
		return rep.Status
	}
	tests := []struct {
		name   string
		c      rpc.Transport
		label  uint64
		data   []byte
		want   int32
		handle bool
	}{
		{"unknown label with a handle", public, 77, nil, int32(syscall.ENOSYS), true},
		{"garbage Register with a handle", driver, devreg.Register.Label, []byte{0xff, 0xff, 0xff}, int32(syscall.EBADMSG), true},
		{"List with a handle", public, devreg.List.Label, nil, int32(syscall.EBADMSG), true},
		{"Lookup with trailing bytes", public, devreg.Lookup.Label, []byte{1, 'a', 0}, int32(syscall.EBADMSG), false},
		{"Lookup of a name longer than the data", public, devreg.Lookup.Label, []byte{0xff, 0x7f, 'a'}, int32(syscall.EBADMSG), false},
	}
	for _, tt := range tests {
		var hs []ipc.Handle
		if tt.handle {
			hs = append(hs, h.add(ipc.TypeEndpoint, epRights))
		}
		if got := raw(tt.c, tt.label, tt.data, hs...); got != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, got, tt.want)
		}
		for _, x := range hs {
			if h.isLive(x) {
				t.Errorf("%s: the handle sent was left open in pcid", tt.name)
			}
		}
	}
	// A refused Register's handle is closed; a huge Lookup is not found.
	bad := h.add(ipc.TypeMemory, epRights)
	if err := (devreg.Client{T: driver}).Register(ctx, "nvme0", "block", bad); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Register of a memory handle: %v", err)
	}
	if h.isLive(bad) {
		t.Error("a refused handle was left open in pcid")
	}
	if _, err := (devreg.Client{T: public}).Lookup(ctx, strings.Repeat("x", 4000)); !errors.Is(err, devreg.ErrNotFound) {
		t.Errorf("huge Lookup: %v", err)
	}
	// Still serving, and the driver may still register once.
	if err := (devreg.Client{T: driver}).Register(ctx, "nvme0", "block", h.add(ipc.TypeEndpoint, epRights)); err != nil {
		t.Errorf("Register after the abuse: %v", err)
	}
}

func TestServeConcurrent(t *testing.T) {
	ctx := context.Background()
	_, h, _, driver, public := serveTest(t)
	if err := (devreg.Client{T: driver}).Register(ctx, "nvme0", "block", h.add(ipc.TypeEndpoint, epRights)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				rep, err := devreg.Client{T: public}.Lookup(ctx, "nvme0")
				if err == nil {
					err = h.Close(rep.Server)
				}
				if err == nil {
					_, err = devreg.Client{T: public}.List(ctx)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// failingReply is a transport whose replies cannot be delivered, as when
// the caller died while pcid was answering.
type failingReply struct {
	reqs chan ipc.Message
}

func (f *failingReply) Receive(ctx context.Context, m *ipc.Message) (rpc.ReplyTo, error) {
	select {
	case r, ok := <-f.reqs:
		if !ok {
			return 0, errors.New("closed")
		}
		*m = r
		return 1, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (f *failingReply) Reply(rpc.ReplyTo, *ipc.Message) error { return syscall.EOWNERDEAD }

func TestUndeliveredReplyHandlesClosed(t *testing.T) {
	h := newFakeHandles()
	reg := h.add(ipc.TypeEndpoint, epRights)
	k := newHandleKeeper(&failingReply{}, h.Close)
	var req ipc.Message
	req.Label = devreg.Register.Label
	req.NHandles, req.Handles[0] = 1, reg
	k.pending[1] = pendingReq{label: req.Label, handles: []ipc.Handle{reg}}
	lookupCopy := h.add(ipc.TypeEndpoint, ipc.RightWrite|ipc.RightGrant)
	var rep ipc.Message
	rep.NHandles, rep.Handles[0] = 1, lookupCopy
	if err := k.Reply(1, &rep); err == nil {
		t.Fatal("Reply succeeded")
	}
	if h.isLive(lookupCopy) {
		t.Error("the handle of an undelivered reply was left open")
	}
	if !h.isLive(reg) {
		t.Error("a successful Register's handle was closed")
	}
	if len(k.pending) != 0 {
		t.Errorf("pending requests left: %v", k.pending)
	}
}

func TestFitList(t *testing.T) {
	var fns []devreg.Function
	for i := 0; i < 200; i++ {
		fns = append(fns, devreg.Function{Addr: fmt.Sprintf("%02x:%02x.0", i/32, i%32),
			Line: strings.Repeat("x", 80), Driver: "nvmed", State: "no driver"})
	}
	small := devreg.ListReply{Functions: fns[:5]}
	if diff := cmp.Diff(small, fitList(small)); diff != "" {
		t.Errorf("a small list was changed (-want +got)\n%s", diff)
	}
	mid := fitList(devreg.ListReply{Functions: fns[:60]})
	if len(mid.Functions) != 60 || mid.Functions[0].Line != "" || fns[0].Line == "" {
		t.Errorf("60 functions: %d kept, line %q: want all, without lines, the input untouched", len(mid.Functions), mid.Functions[0].Line)
	}
	big := fitList(devreg.ListReply{Functions: fns})
	if n := len(big.Functions); n == 0 || n == len(fns) || !fits(big) {
		t.Errorf("200 functions: %d kept", n)
	}
	if !fits(big) || big.Functions[0].Addr != "00:00.0" {
		t.Errorf("the list kept is not a prefix: %+v", big.Functions[0])
	}
}
