package fsd

import (
	"testing"

	"valence.dev/ipc"
	"valence.dev/ipc/codec"
	"valence.dev/servers/fs/fileproto"
)

// FuzzRequest sends arbitrary bytes as a request of every method, from
// two clients, and checks that the server answers (an error or a
// reply), never panics, and still serves a good request afterwards.
// The seeds are valid requests, so the fuzzer starts from calls that
// reach the handlers.
func FuzzRequest(f *testing.F) {
	seeds := []struct {
		label uint64
		v     any
	}{
		{fileproto.Open.Label, &fileproto.OpenRequest{At: at("f"), Flags: fileproto.O_CREAT | fileproto.O_RDWR, Mode: 0o644}},
		{fileproto.Write.Label, &fileproto.WriteRequest{Fid: 1, Data: []byte("data")}},
		{fileproto.Read.Label, &fileproto.ReadRequest{Fid: 1, Len: 10}},
		{fileproto.Getdents.Label, &fileproto.GetdentsRequest{Fid: 1}},
		{fileproto.Mkdir.Label, &fileproto.MkdirRequest{At: at("d/../e"), Mode: 0o755}},
		{fileproto.Rename.Label, &fileproto.RenameRequest{Old: at("f"), New: at("g")}},
		{fileproto.Symlink.Label, &fileproto.SymlinkRequest{Target: "/f", At: at("l")}},
		{fileproto.Attach.Label, &fileproto.AttachRequest{Size: 4096}},
		{fileproto.Truncate.Label, &fileproto.TruncateRequest{At: fileproto.At{Dir: 1}, Size: 1 << 40}},
		{fileproto.Utimens.Label, &fileproto.UtimensRequest{At: at("f"), Atime: fileproto.Timespec{Nsec: fileproto.UTIME_NOW}}},
		{fileproto.Forget.Label, &fileproto.Empty{}},
	}
	for _, s := range seeds {
		var m ipc.Message
		if err := codec.Marshal(s.v, &m); err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(s.label), false, m.Data[:m.DataLen])
	}
	r := newRig(f, Options{MaxFilesPerClient: 16})
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
		if err := r.end.Client(badge).Call(ctx, &req, &rep); err != nil {
			t.Fatalf("call label %d: transport error %v", req.Label, err)
		}
		if _, err := r.c.Statfs(ctx); err != nil {
			t.Fatalf("Statfs after label %d: %v", req.Label, err)
		}
		if _, err := r.c.Stat(ctx, fileproto.StatRequest{At: at("/")}); err != nil && code(err) != 0 {
			t.Fatalf("Stat / after label %d: %v", req.Label, err)
		}
	})
}
