package fsclient

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/kfile/kfiletest"
	"valence.dev/microkernel/obj"
	"valence.dev/servers/fs/blockdev"
	"valence.dev/servers/fs/fileproto"
	"valence.dev/servers/fs/fs"
	"valence.dev/servers/fs/fsd"
)

// The forwarding client on the host: the kernel's remote filesystem
// calling fsd's real server over a kernel endpoint, as it does in
// Valence, only without a calling thread (c nil: the kernel's own calls).

// epServer is rpc.ServerTransport over a kernel endpoint.
type epServer struct{ ep *obj.Endpoint }

func (s epServer) Receive(ctx context.Context, m *ipc.Message) (rpc.ReplyTo, error) {
	for {
		r, err := s.ep.Receive(ctx.Done(), false)
		if err != nil {
			return 0, err
		}
		if r.Call == nil {
			continue
		}
		*m = r.Call.Msg
		m.Badge = r.Call.Badge
		tok := r.Call.Token
		if s.ep.Accept(r.Call) == nil {
			return rpc.ReplyTo(tok), nil
		}
	}
}

func (s epServer) Reply(to rpc.ReplyTo, m *ipc.Message) error {
	return s.ep.Reply(uint64(to), m, nil)
}

// serveFS serves filesystem f on a new endpoint until the test ends.
func serveFS(t *testing.T, f *fs.FS) *obj.Endpoint {
	t.Helper()
	ep := obj.NewEndpoint(0)
	srv := fsd.New(f, fsd.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for range 2 {
		go srv.RPC().Serve(ctx, epServer{ep})
	}
	return ep
}

func newRemote(t *testing.T) (FS, *fs.FS) {
	t.Helper()
	dev := blockdev.NewMem(4096)
	if err := fs.Mkfs(dev, fs.MkfsOptions{Volume: 3}); err != nil {
		t.Fatal(err)
	}
	f, err := fs.Mount(dev, fs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ep := serveFS(t, f)
	return New(ep, 1, 0, ""), f
}

func must(t *testing.T, e errno.Errno) {
	t.Helper()
	if e != 0 {
		t.Fatalf("errno %v", e)
	}
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func TestRemoteReadWrite(t *testing.T) {
	rfs, _ := newRemote(t)
	f, e := rfs.Open(nil, kfile.At{Rel: "file"}, linux.O_CREAT|linux.O_RDWR, 0o644)
	must(t, e)
	defer f.Release()
	data := pattern(3*fileproto.MaxInline + 17)
	n, e := f.Write(nil, data, 0, false)
	must(t, e)
	if n != len(data) {
		t.Fatalf("wrote %d of %d", n, len(data))
	}
	got := make([]byte, len(data)+100)
	n, e = f.Read(nil, got, 0, false)
	must(t, e)
	if diff := cmp.Diff(data, got[:n]); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
	n, e = f.Read(nil, got[:10], int64(len(data)-4), false)
	must(t, e)
	if n != 4 {
		t.Errorf("read at the end: %d bytes, want 4", n)
	}
	st, e := rfs.Stat(nil, kfile.At{Rel: "file"}, 0)
	must(t, e)
	if st.Size != int64(len(data)) || st.Mode != linux.S_IFREG|0o644 {
		t.Errorf("stat: size %d mode %#o", st.Size, st.Mode)
	}
}

func TestRemoteAppend(t *testing.T) {
	rfs, _ := newRemote(t)
	a, e := rfs.Open(nil, kfile.At{Rel: "log"}, linux.O_CREAT|linux.O_WRONLY|linux.O_APPEND, 0o600)
	must(t, e)
	defer a.Release()
	b, e := rfs.Open(nil, kfile.At{Rel: "log"}, linux.O_WRONLY|linux.O_APPEND, 0)
	must(t, e)
	defer b.Release()
	for i, f := range []kfile.File{a, b, a} {
		_, end, e := f.(kfile.EndWriter).WriteEnd(nil, []byte(fmt.Sprint(i)), 0)
		must(t, e)
		if end != int64(i+1) {
			t.Errorf("append %d: end %d", i, end)
		}
	}
}

func TestRemoteReaddir(t *testing.T) {
	rfs, _ := newRemote(t)
	must(t, rfs.Mkdir(nil, kfile.At{Rel: "d"}, 0o755))
	want := []string{".", ".."}
	for i := range 300 {
		name := fmt.Sprintf("entry-%03d-%0*d", i, i%40, 0)
		f, e := rfs.Open(nil, kfile.At{Rel: "d/" + name}, linux.O_CREAT|linux.O_WRONLY, 0o644)
		must(t, e)
		f.Release()
		want = append(want, name)
	}
	df, e := rfs.Open(nil, kfile.At{Rel: "d"}, linux.O_RDONLY|linux.O_DIRECTORY, 0)
	must(t, e)
	defer df.Release()
	d := df.(kfile.Directory)
	// As a program with a small buffer: three entries a call.
	var got []string
	var positions []int64
	pos := int64(0)
	for {
		ents, e := d.Readdir(nil, pos)
		must(t, e)
		if len(ents) == 0 {
			break
		}
		for _, ent := range ents[:min(3, len(ents))] {
			positions = append(positions, pos)
			got = append(got, ent.Name)
			pos = ent.Next
		}
	}
	sorted := func(s []string) []string { s = append([]string(nil), s...); sort.Strings(s); return s }
	if diff := cmp.Diff(sorted(want), sorted(got)); diff != "" {
		t.Fatalf("entries (-want +got):\n%s", diff)
	}
	// seekdir back into the middle, then to the start.
	for _, i := range []int{150, 7, 0, 299} {
		ents, e := d.Readdir(nil, positions[i])
		must(t, e)
		if len(ents) == 0 || ents[0].Name != got[i] {
			t.Errorf("readdir at position %d: %v, want %s first", positions[i], ents[:min(1, len(ents))], got[i])
		}
	}
}

func TestRemoteNames(t *testing.T) {
	rfs, _ := newRemote(t)
	must(t, rfs.Mkdir(nil, kfile.At{Rel: "a"}, 0o755))
	if e := rfs.Mkdir(nil, kfile.At{Rel: "a"}, 0o755); e != errno.EEXIST {
		t.Errorf("mkdir twice: %v", e)
	}
	f, e := rfs.Open(nil, kfile.At{Rel: "a/f"}, linux.O_CREAT|linux.O_WRONLY, 0o644)
	must(t, e)
	f.Release()
	must(t, rfs.Rename(nil, kfile.At{Rel: "a/f"}, kfile.At{Rel: "a/g"}, 0))
	must(t, rfs.Link(nil, kfile.At{Rel: "a/g"}, kfile.At{Rel: "h"}, 0))
	must(t, rfs.Symlink(nil, "a/g", kfile.At{Rel: "s"}))
	target, e := rfs.Readlink(nil, kfile.At{Rel: "s"})
	must(t, e)
	if target != "a/g" {
		t.Errorf("readlink: %q", target)
	}
	st, e := rfs.Stat(nil, kfile.At{Rel: "h"}, 0)
	must(t, e)
	if st.Nlink != 2 {
		t.Errorf("nlink %d, want 2", st.Nlink)
	}
	must(t, rfs.Chmod(nil, kfile.At{Rel: "s"}, 0o600, 0))
	if st, _ := rfs.Stat(nil, kfile.At{Rel: "a/g"}, 0); st.Mode&0o777 != 0o600 {
		t.Errorf("chmod through a symlink: mode %#o", st.Mode)
	}
	for _, tc := range []struct {
		name string
		e    errno.Errno
	}{
		{"unlink a directory", rfs.Unlink(nil, kfile.At{Rel: "a"}, 0)},
		{"rmdir a non-empty one", rfs.Unlink(nil, kfile.At{Rel: "a"}, linux.AT_REMOVEDIR)},
		{"a trailing slash on a file", func() errno.Errno { _, e := rfs.Stat(nil, kfile.At{Rel: "h/"}, 0); return e }()},
		{"missing", func() errno.Errno { _, e := rfs.Open(nil, kfile.At{Rel: "nope"}, 0, 0); return e }()},
	} {
		if tc.e == 0 {
			t.Errorf("%s: no error", tc.name)
		}
	}
	must(t, rfs.Unlink(nil, kfile.At{Rel: "a/g"}, 0))
	must(t, rfs.Unlink(nil, kfile.At{Rel: "a"}, linux.AT_REMOVEDIR))
	sfs, e := rfs.Statfs(nil)
	must(t, e)
	if sfs.Type != fileproto.Magic || sfs.Blocks == 0 {
		t.Errorf("statfs: %+v", sfs)
	}
}

// TestRemoteRestart: a dead server fails calls with EIO at once; a
// replacement serves files opened before it by reopening them.
func TestRemoteRestart(t *testing.T) {
	rfs, f := newRemote(t)
	w, e := rfs.Open(nil, kfile.At{Rel: "kept"}, linux.O_CREAT|linux.O_RDWR, 0o644)
	must(t, e)
	defer w.Release()
	if _, e := w.Write(nil, []byte("before"), 0, false); e != 0 {
		t.Fatal(e)
	}
	rfs.m.ep.Kill()
	done := make(chan errno.Errno, 1)
	go func() { _, e := w.Read(nil, make([]byte, 8), 0, false); done <- e }()
	select {
	case e := <-done:
		if e != errno.EIO {
			t.Errorf("read from a dead server: %v, want EIO", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("read from a dead server hangs")
	}
	rfs.m.replace(serveFS(t, f), 1)
	got := make([]byte, 16)
	n, e := w.Read(nil, got, 0, false)
	must(t, e)
	if string(got[:n]) != "before" {
		t.Errorf("after the restart: %q", got[:n])
	}
}

// inCallCaller is a caller that records whether it was marked as in an
// IPC call during each server call.
type inCallCaller struct {
	*kfiletest.Caller
	marks int
}

func (c *inCallCaller) SetInCall(on bool) {
	if on {
		c.marks++
	}
	c.Caller.SetInCall(on)
}

// TestRemoteWithCaller: calls made for a thread (rather than the
// kernel's own) go through, and mark the thread as in a call only
// while they wait; a signal does not cut a call short.
func TestRemoteWithCaller(t *testing.T) {
	rfs, _ := newRemote(t)
	c := &inCallCaller{Caller: kfiletest.NewCaller(5)}
	f, e := rfs.Open(c, kfile.At{Rel: "mine"}, linux.O_CREAT|linux.O_RDWR, 0o600)
	must(t, e)
	defer f.Release()
	c.Interrupt() // pending: must not fail the calls below
	if n, e := f.Write(c, []byte("data"), 0, false); n != 4 || e != 0 {
		t.Fatalf("Write = %d, %v", n, e)
	}
	got := make([]byte, 8)
	n, e := f.Read(c, got, 0, false)
	must(t, e)
	if string(got[:n]) != "data" {
		t.Errorf("read back %q", got[:n])
	}
	if c.marks < 3 || c.InCall() {
		t.Errorf("in-call marks %d (want one per call, 3 or more), still marked %v", c.marks, c.InCall())
	}
	st, e := kfile.StatOf(c, f)
	must(t, e)
	if st.Size != 4 {
		t.Errorf("StatOf: size %d, want 4", st.Size)
	}
}
