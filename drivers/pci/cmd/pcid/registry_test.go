package main

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/drivers/lib/devreg"
	"valence.dev/ipc"
)

// fakeHandles is a handle table: handles are numbers, each with what Info
// reports; Close removes them, and closing twice is an error.
type fakeHandles struct {
	mu     sync.Mutex
	next   ipc.Handle
	live   map[ipc.Handle]ipc.HandleInfo
	closed []ipc.Handle
}

func newFakeHandles() *fakeHandles {
	return &fakeHandles{next: 100, live: map[ipc.Handle]ipc.HandleInfo{}}
}

// add makes a handle of the given type and rights.
func (f *fakeHandles) add(typ uint32, rights ipc.Rights) ipc.Handle {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	f.live[f.next] = ipc.HandleInfo{Type: typ, Rights: rights}
	return f.next
}

func (f *fakeHandles) Dup(h ipc.Handle, r ipc.Rights, badge uint64) (ipc.Handle, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	info, ok := f.live[h]
	if !ok {
		return 0, syscall.EBADF
	}
	if info.Rights&ipc.RightDuplicate == 0 || r&^info.Rights != 0 {
		return 0, syscall.EACCES
	}
	f.next++
	info.Rights = r
	f.live[f.next] = info
	return f.next, nil
}

func (f *fakeHandles) Close(h ipc.Handle) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.live[h]; !ok {
		return syscall.EBADF
	}
	delete(f.live, h)
	f.closed = append(f.closed, h)
	return nil
}

func (f *fakeHandles) Info(h ipc.Handle) (ipc.HandleInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	info, ok := f.live[h]
	if !ok {
		return ipc.HandleInfo{}, syscall.EBADF
	}
	return info, nil
}

func (f *fakeHandles) isLive(h ipc.Handle) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.live[h]
	return ok
}

const epRights = ipc.RightWrite | ipc.RightGrant | ipc.RightDuplicate

func testFunctions() []devreg.Function {
	return []devreg.Function{
		{Addr: "00:00.0", Line: "00:00.0 Host bridge [0600]: Intel Corporation [8086:29c0]"},
		{Addr: "00:03.0", Driver: "virtio-netd", State: "starting"},
		{Addr: "00:04.0", Driver: "nvmed", State: "starting"},
	}
}

func newTestRegistry(t *testing.T) (*Registry, *fakeHandles, *[]string) {
	h := newFakeHandles()
	var logs []string
	r := NewRegistry(h, testFunctions(), func(format string, args ...any) { logs = append(logs, fmt.Sprintf(format, args...)) })
	return r, h, &logs
}

func TestRegistryLifecycle(t *testing.T) {
	r, h, logs := newTestRegistry(t)
	nvme := r.Starting(2)
	r.Started(2, 7)
	net := r.Starting(1)
	r.Failed(1, "no /bin/virtio-netd")
	if nvme < firstDriverBadge || net == nvme {
		t.Fatalf("badges %d and %d: want distinct, from %d", nvme, net, firstDriverBadge)
	}

	if _, err := r.Lookup("nvme0"); !errors.Is(err, devreg.ErrNotFound) {
		t.Errorf("Lookup before Register: %v, want ErrNotFound", err)
	}
	srv := h.add(ipc.TypeEndpoint, epRights)
	if err := r.Register(nvme, devreg.RegisterRequest{Name: "nvme0", Kind: "block", Server: srv}); err != nil {
		t.Fatalf("Register: %v", err)
	}
	rep, err := r.Lookup("nvme0")
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	if info, err := h.Info(rep.Server); err != nil || rep.Kind != "block" || info.Rights != ipc.RightWrite|ipc.RightGrant {
		t.Errorf("Lookup: %+v, handle info %+v, %v: want kind block, a write+grant copy", rep, info, err)
	}
	if rep.Server == srv {
		t.Error("Lookup gave away the registered handle itself")
	}

	want := testFunctions()
	want[0].State = "no driver"
	want[1].State = "failed: no /bin/virtio-netd"
	want[2].State, want[2].PID, want[2].Name = "running", 7, "nvme0"
	if diff := cmp.Diff(want, r.List().Functions); diff != "" {
		t.Errorf("List (-want +got)\n%s", diff)
	}

	r.Exited(2, "exit status 1")
	if h.isLive(srv) {
		t.Error("the registered handle survived its driver")
	}
	if _, err := r.Lookup("nvme0"); !errors.Is(err, devreg.ErrNotFound) {
		t.Errorf("Lookup after exit: %v, want ErrNotFound", err)
	}
	srv2 := h.add(ipc.TypeEndpoint, epRights)
	if err := r.Register(nvme, devreg.RegisterRequest{Name: "nvme0", Kind: "block", Server: srv2}); !errors.Is(err, devreg.ErrNotDriver) {
		t.Errorf("Register with a dead driver's badge: %v, want ErrNotDriver", err)
	}
	want[2].State, want[2].PID, want[2].Name = "exited: exit status 1", 0, ""
	if diff := cmp.Diff(want, r.List().Functions); diff != "" {
		t.Errorf("List after exit (-want +got)\n%s", diff)
	}
	if diff := cmp.Diff([]string{"nvmed (00:04.0) registered nvme0 (block)"}, *logs); diff != "" {
		t.Errorf("log (-want +got)\n%s", diff)
	}
}

func TestRegistryRefusals(t *testing.T) {
	r, h, _ := newTestRegistry(t)
	a := r.Starting(1)
	b := r.Starting(2)
	ep := func() ipc.Handle { return h.add(ipc.TypeEndpoint, epRights) }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.Register(a, devreg.RegisterRequest{Name: "net0", Kind: "nic", Server: ep()}))

	tests := []struct {
		name  string
		badge uint64
		req   devreg.RegisterRequest
		want  error // compared with errors.Is
	}{
		{"twice", a, devreg.RegisterRequest{Name: "net1", Kind: "nic", Server: ep()}, devreg.ErrNotDriver},
		{"public badge", publicBadge, devreg.RegisterRequest{Name: "x", Kind: "nic", Server: ep()}, devreg.ErrNotDriver},
		{"unbadged", 0, devreg.RegisterRequest{Name: "x", Kind: "nic", Server: ep()}, devreg.ErrNotDriver},
		{"foreign badge", 999, devreg.RegisterRequest{Name: "x", Kind: "nic", Server: ep()}, devreg.ErrNotDriver},
		{"name taken", b, devreg.RegisterRequest{Name: "net0", Kind: "block", Server: ep()}, syscall.EEXIST},
		{"empty name", b, devreg.RegisterRequest{Name: "", Kind: "block", Server: ep()}, syscall.EINVAL},
		{"huge name", b, devreg.RegisterRequest{Name: strings.Repeat("n", 4000), Kind: "block", Server: ep()}, syscall.EINVAL},
		{"name with a slash", b, devreg.RegisterRequest{Name: "../nvme0", Kind: "block", Server: ep()}, syscall.EINVAL},
		{"name with a control character", b, devreg.RegisterRequest{Name: "nvme\n0", Kind: "block", Server: ep()}, syscall.EINVAL},
		{"huge kind", b, devreg.RegisterRequest{Name: "nvme0", Kind: strings.Repeat("k", 33), Server: ep()}, syscall.EINVAL},
		{"no server", b, devreg.RegisterRequest{Name: "nvme0", Kind: "block"}, syscall.EINVAL},
		{"dead handle", b, devreg.RegisterRequest{Name: "nvme0", Kind: "block", Server: 12345}, syscall.EINVAL},
		{"not an endpoint", b, devreg.RegisterRequest{Name: "nvme0", Kind: "block", Server: h.add(ipc.TypeMemory, epRights)}, syscall.EINVAL},
		{"no duplicate right", b, devreg.RegisterRequest{Name: "nvme0", Kind: "block", Server: h.add(ipc.TypeEndpoint, ipc.RightWrite|ipc.RightGrant)}, syscall.EINVAL},
	}
	for _, tt := range tests {
		if err := r.Register(tt.badge, tt.req); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
		if tt.req.Server != 0 && !h.isLive(tt.req.Server) && tt.req.Server != 12345 {
			t.Errorf("%s: the registry closed a handle it refused (the transport does that)", tt.name)
		}
	}
	// After all those refusals b may still register, once.
	must(r.Register(b, devreg.RegisterRequest{Name: "nvme0", Kind: "block", Server: ep()}))
	if err := r.Register(b, devreg.RegisterRequest{Name: "nvme1", Kind: "block", Server: ep()}); !errors.Is(err, devreg.ErrNotDriver) {
		t.Errorf("second Register: %v", err)
	}
	for _, name := range []string{"", "nvme1", strings.Repeat("x", 5000), "net0\x00"} {
		if _, err := r.Lookup(name); !errors.Is(err, devreg.ErrNotFound) {
			t.Errorf("Lookup(%.20q): %v, want ErrNotFound", name, err)
		}
	}
}

func TestRegistryBadgesNotReused(t *testing.T) {
	r, _, _ := newTestRegistry(t)
	seen := map[uint64]bool{}
	for i := 0; i < 10; i++ {
		b := r.Starting(2)
		if seen[b] || b < firstDriverBadge {
			t.Fatalf("badge %d reused or reserved", b)
		}
		seen[b] = true
		r.Exited(2, "exit status 0")
		if _, _, ok := r.Owner(b); ok {
			t.Errorf("badge %d still owned after its driver exited", b)
		}
	}
}
