package blkfile

import (
	"testing"

	"valence.dev/ipc"
	"valence.dev/ipc/codec"
	"valence.dev/servers/fs/fileproto"
)

// FuzzRequests sends arbitrary bytes as a request of every method, from
// two clients, to a server on a small device through the rpc layer
// (which decodes them), and checks that the server answers, never
// panics, keeps its counts straight and still serves good requests
// afterwards. The seeds are valid requests, so the fuzzer starts from
// calls that reach the handlers.
func FuzzRequests(f *testing.F) {
	seeds := []struct {
		label uint64
		v     any
	}{
		{fileproto.Open.Label, &fileproto.OpenRequest{Flags: fileproto.O_RDWR}},
		{fileproto.Open.Label, &fileproto.OpenRequest{Flags: fileproto.O_RDONLY | fileproto.O_EXCL, Cred: fileproto.Cred{Uid: 5, Groups: []uint32{6}}}},
		{fileproto.Write.Label, &fileproto.WriteRequest{Fid: 1, Off: 4090, Data: []byte("across a boundary")}},
		{fileproto.Write.Label, &fileproto.WriteRequest{Fid: 1, Off: 5, Buf: 1, BufOff: 3, Len: 9000}},
		{fileproto.Read.Label, &fileproto.ReadRequest{Fid: 1, Off: 4000, Len: 200}},
		{fileproto.Read.Label, &fileproto.ReadRequest{Fid: 1, Off: 1, Buf: 1, Len: 8192}},
		{fileproto.Attach.Label, &fileproto.AttachRequest{Size: 3 * 4096}},
		{fileproto.Detach.Label, &fileproto.DetachRequest{ID: 1}},
		{fileproto.Close.Label, &fileproto.FidRequest{Fid: 1}},
		{fileproto.StatAt.Label, &fileproto.StatRequest{At: fileproto.At{Dir: 1}}},
		{fileproto.Rename.Label, &fileproto.RenameRequest{Old: fileproto.At{Path: "/"}, New: fileproto.At{Path: "."}}},
		{fileproto.Chown.Label, &fileproto.ChownRequest{Uid: 7, Gid: fileproto.NoChange}},
		{fileproto.Chmod.Label, &fileproto.ChmodRequest{Mode: 0o7777}},
		{fileproto.Utimens.Label, &fileproto.UtimensRequest{Atime: fileproto.Timespec{Nsec: fileproto.UTIME_NOW}, Mtime: fileproto.Timespec{Sec: 5}}},
		{fileproto.Truncate.Label, &fileproto.TruncateRequest{At: fileproto.At{Dir: 1}, Size: 1 << 40}},
		{fileproto.Access.Label, &fileproto.AccessRequest{Mode: 7}},
		{fileproto.Fsync.Label, &fileproto.FidRequest{Fid: 1}},
		{fileproto.Forget.Label, &fileproto.Empty{}},
	}
	for _, s := range seeds {
		var m ipc.Message
		if err := codec.Marshal(s.v, &m); err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(s.label), false, m.Data[:m.DataLen])
	}
	r := newRig(f, 5, Options{MaxFilesPerClient: 8})
	end := serve(f, r)
	good := fileproto.Client{T: end.Client(3)}
	f.Fuzz(func(t *testing.T, label uint8, other bool, data []byte) {
		if len(data) > ipc.MaxData {
			return
		}
		badge := uint64(1)
		if other {
			badge = 2
		}
		var req, rep ipc.Message
		req.Label = uint64(label % 26)
		req.DataLen = uint32(copy(req.Data[:], data))
		if err := end.Client(badge).Call(ctx, &req, &rep); err != nil {
			t.Fatalf("call label %d: transport error %v", req.Label, err)
		}
		// A good client still gets served.
		o, err := good.Open(ctx, fileproto.OpenRequest{Flags: fileproto.O_RDONLY})
		if err != nil {
			t.Fatalf("open after label %d: %v", req.Label, err)
		}
		if rd, err := good.Read(ctx, fileproto.ReadRequest{Fid: o.Fid, Off: 5*4096 - 10, Len: 100}); err != nil || rd.N != 10 {
			t.Fatalf("read after label %d: %+v, %v", req.Label, rd, err)
		}
		if err := good.Close(ctx, o.Fid); err != nil {
			t.Fatalf("close after label %d: %v", req.Label, err)
		}
		checkCounts(t, r.srv)
	})
}

// checkCounts checks the server's totals against its tables.
func checkCounts(t *testing.T, s *Server) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	files, excl, shared := 0, 0, uint64(0)
	for badge, c := range s.clients {
		if len(c.files) == 0 && len(c.bufs) == 0 {
			t.Errorf("client %d holds nothing but is kept", badge)
		}
		if c.files[0] != nil || c.bufs[0] != nil {
			t.Errorf("client %d has Fid or buffer 0", badge)
		}
		files += len(c.files)
		for _, f := range c.files {
			if f.exclusive() {
				excl++
			}
		}
		for _, b := range c.bufs {
			shared += uint64(len(b.Bytes))
		}
	}
	if files != s.nfiles || excl != s.exclusive || shared != s.shared || excl > 1 {
		t.Fatalf("counts: files %d/%d, claims %d/%d, shared %d/%d", files, s.nfiles, excl, s.exclusive, shared, s.shared)
	}
}
