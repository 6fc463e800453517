package fsd

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
	"valence.dev/ipc/rpc/memtransport"
	"valence.dev/servers/fs/blockdev"
	"valence.dev/servers/fs/fileproto"
	"valence.dev/servers/fs/fs"
)

var (
	root  = fileproto.Cred{}
	alice = fileproto.Cred{Uid: 1000, Gid: 1000}
	bob   = fileproto.Cred{Uid: 1001, Gid: 1001, Groups: []uint32{1000}}
	carol = fileproto.Cred{Uid: 1002, Gid: 1002}
)

// fakeMemory is shared memory for tests: the handle is a number the
// test turns back into the bytes (memtransport moves handle values as
// they are).
type fakeMemory struct {
	mu   sync.Mutex
	bufs map[ipc.Handle]*Shared
	next ipc.Handle
}

func (m *fakeMemory) Alloc(size uint64) (*Shared, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	b := &Shared{Bytes: make([]byte, size), Handle: m.next}
	m.bufs[b.Handle] = b
	return b, nil
}

func (m *fakeMemory) Free(b *Shared) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.bufs, b.Handle)
}

func (m *fakeMemory) bytes(h ipc.Handle) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bufs[h].Bytes
}

// rig is a server on a fresh filesystem in memory, and its endpoint.
type rig struct {
	dev *blockdev.Mem
	fs  *fs.FS
	srv *Server
	mem *fakeMemory
	end *memtransport.Server
	c   fileproto.Client // badge 1
}

func clock() time.Time { return time.Unix(1700000000, 0) }

func newRig(t testing.TB, o Options) *rig {
	t.Helper()
	dev := blockdev.NewMem(4096)
	if err := fs.Mkfs(dev, fs.MkfsOptions{Volume: 7, Now: clock}); err != nil {
		t.Fatal(err)
	}
	f, err := fs.Mount(dev, fs.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	mem := &fakeMemory{bufs: map[ipc.Handle]*Shared{}}
	if o.Memory == nil {
		o.Memory = mem
	}
	o.Now = clock
	srv := New(f, o)
	_, end := memtransport.New()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); end.Close() })
	r := srv.RPC()
	for range 4 {
		go r.Serve(ctx, end)
	}
	return &rig{dev: dev, fs: f, srv: srv, mem: mem, end: end, c: fileproto.Client{T: end.Client(1)}}
}

// as returns a client with another badge.
func (r *rig) as(badge uint64) fileproto.Client {
	return fileproto.Client{T: r.end.Client(badge)}
}

var ctx = context.Background()

func at(p string) fileproto.At { return fileproto.At{Path: p} }

// code is the errno of err, 0 for nil, -1 for an error that is not an
// rpc.Error.
func code(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var re *rpc.Error
	if errors.As(err, &re) {
		return syscall.Errno(re.Code)
	}
	return ^syscall.Errno(0)
}

// must fails the test on err.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// writeFile creates path as cred with data.
func writeFile(t testing.TB, c fileproto.Client, cred fileproto.Cred, path string, mode uint32, data string) {
	t.Helper()
	o, err := c.Open(ctx, fileproto.OpenRequest{Cred: cred, At: at(path), Flags: fileproto.O_WRONLY | fileproto.O_CREAT | fileproto.O_TRUNC, Mode: mode})
	must(t, err)
	if data != "" {
		_, err = c.Write(ctx, fileproto.WriteRequest{Fid: o.Fid, Data: []byte(data)})
		must(t, err)
	}
	must(t, c.Close(ctx, o.Fid))
}

// readFile reads all of path as cred, inline.
func readFile(c fileproto.Client, cred fileproto.Cred, path string) (string, error) {
	o, err := c.Open(ctx, fileproto.OpenRequest{Cred: cred, At: at(path)})
	if err != nil {
		return "", err
	}
	defer c.Close(ctx, o.Fid)
	var out []byte
	for {
		rep, err := c.Read(ctx, fileproto.ReadRequest{Fid: o.Fid, Off: int64(len(out)), Len: fileproto.MaxInline})
		if err != nil {
			return "", err
		}
		if rep.N == 0 {
			return string(out), nil
		}
		out = append(out, rep.Data...)
	}
}

// list returns the names in directory path, as cred, sorted by Getdents
// order, with "." and "..".
func list(c fileproto.Client, cred fileproto.Cred, path string, max uint32) ([]string, error) {
	o, err := c.Open(ctx, fileproto.OpenRequest{Cred: cred, At: at(path), Flags: fileproto.O_DIRECTORY})
	if err != nil {
		return nil, err
	}
	defer c.Close(ctx, o.Fid)
	var names []string
	for i := 0; ; i++ {
		rep, err := c.Getdents(ctx, fileproto.GetdentsRequest{Fid: o.Fid, Max: max})
		if err != nil {
			return nil, err
		}
		for _, e := range rep.Entries {
			names = append(names, e.Name)
		}
		if rep.End {
			return names, nil
		}
		if i > 100000 {
			return nil, fmt.Errorf("getdents never ends")
		}
	}
}
