package blkfile

import (
	"bytes"
	"context"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/ipc/rpc/memtransport"
	"valence.dev/servers/fs/fileproto"
)

// serve serves r's server on an in-memory endpoint with a few
// goroutines, as the OS does on a kernel endpoint, until the test ends.
func serve(t testing.TB, r *rig) *memtransport.Server {
	t.Helper()
	_, end := memtransport.New()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); end.Close() })
	rs := r.srv.RPC()
	for range 4 {
		go rs.Serve(ctx, end)
	}
	return end
}

// TestThroughRPC drives the server through fileproto.Client over an
// in-memory transport, as the kernel would: dd-like copies in and out,
// stat, and errnos arriving intact.
func TestThroughRPC(t *testing.T) {
	r := newRig(t, 16, Options{Name: "vda", Rdev: Makedev(254, 0)})
	end := serve(t, r)
	c := fileproto.Client{T: end.Client(1)}
	o, err := c.Open(ctx, fileproto.OpenRequest{Cred: root, Flags: fileproto.O_RDWR})
	if err != nil {
		t.Fatal(err)
	}
	if o.Stat.Rdev != 0xfe00 || o.Stat.Size != 16*blockSize || o.Stat.Mode != 0o60660 {
		t.Errorf("Open's Stat: got rdev %#x size %d mode %#o, want 0xfe00 %d 060660", o.Stat.Rdev, o.Stat.Size, o.Stat.Mode, 16*blockSize)
	}
	// dd if=/dev/zero of=/dev/vda bs=1000 seek=3 count=20, inline.
	for i := range 20 {
		rep, err := c.Write(ctx, fileproto.WriteRequest{Fid: o.Fid, Off: int64(3000 + 1000*i), Data: make([]byte, 1000)})
		if err != nil || rep.N != 1000 {
			t.Fatalf("write %d: %+v, %v", i, rep, err)
		}
	}
	// Then read the whole device back through a shared buffer, 7 blocks
	// at a time, so the last read is short.
	a, err := c.Attach(ctx, 7*blockSize)
	if err != nil {
		t.Fatal(err)
	}
	buf := r.shm.bytes(a.Mem)
	var got []byte
	for {
		rep, err := c.Read(ctx, fileproto.ReadRequest{Fid: o.Fid, Off: int64(len(got)), Len: 7 * blockSize, Buf: a.ID})
		if err != nil {
			t.Fatal(err)
		}
		if rep.N == 0 {
			break
		}
		got = append(got, buf[:rep.N]...)
	}
	want := bytes.Clone(r.mem.Bytes())
	for i := range want {
		want[i] = pattern(i)
	}
	clear(want[3000:23000])
	if !bytes.Equal(got, want) {
		t.Errorf("read back: %d bytes, differing from what was written at %d", len(got), firstDiff(got, want))
	}
	st, err := c.Stat(ctx, fileproto.StatRequest{Cred: alice, At: fileproto.At{Path: "."}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(o.Stat, st); diff != "" {
		t.Errorf("Stat differs from Open's (-open +stat):\n%s", diff)
	}
	_, err = c.Open(ctx, fileproto.OpenRequest{Cred: alice})
	checkCode(t, "open as alice", err, syscall.EACCES)
	_, err = c.Write(ctx, fileproto.WriteRequest{Fid: o.Fid, Off: 16 * blockSize, Data: []byte{1}})
	checkCode(t, "write at the end", err, syscall.ENOSPC)
	_, err = fileproto.Client{T: end.Client(2)}.Fstat(ctx, o.Fid)
	checkCode(t, "fstat by another client", err, syscall.EBADF)
	checkCode(t, "fsync", c.Fsync(ctx, o.Fid), 0)
	checkCode(t, "forget", c.Forget(ctx), 0)
	if n := r.shm.live(); n != 0 {
		t.Errorf("%d buffers live after Forget", n)
	}
}
