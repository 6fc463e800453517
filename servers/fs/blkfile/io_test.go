package blkfile

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/servers/fs/fileproto"
)

// TestReadWrite writes at unaligned offsets across block boundaries,
// inline and through a buffer, and checks the device and what reads
// return against a model of the bytes.
func TestReadWrite(t *testing.T) {
	const blocks = 8
	r := newRig(t, blocks, Options{})
	model := bytes.Clone(r.mem.Bytes())
	fid := r.open(t, 1, root, fileproto.O_RDWR)
	buf, shared := r.attach(t, 1, 4*blockSize)
	writes := []struct {
		off int64
		n   int
		buf bool
	}{
		{0, 1, false},                          // one byte of a block
		{4095, 2, false},                       // across a boundary
		{blockSize + 100, 300, false},          // inside a block
		{2*blockSize - 1000, 3000, false},      // across, inline maximum is 3072
		{3 * blockSize, blockSize, true},       // exactly one block
		{4*blockSize + 1, 3 * blockSize, true}, // partial, two whole, partial
		{5*blockSize - 7, 2*blockSize + 14, true},
		{blocks*blockSize - 10, 10, false}, // the last bytes
	}
	for i, w := range writes {
		data := bytes.Repeat([]byte{byte(0xa0 + i)}, w.n)
		for j := range data {
			data[j] ^= byte(j)
		}
		req := fileproto.WriteRequest{Fid: fid, Off: w.off}
		if w.buf {
			copy(shared[100:], data)
			req.Buf, req.BufOff, req.Len = buf, 100, uint32(w.n)
		} else {
			req.Data = data
		}
		rep, err := r.srv.Write(ctx, 1, req)
		if err != nil {
			t.Fatalf("write %d bytes at %d: %v", w.n, w.off, err)
		}
		if want := (fileproto.WriteReply{N: uint32(w.n), End: w.off + int64(w.n)}); rep != want {
			t.Errorf("write %d bytes at %d: got %+v, want %+v", w.n, w.off, rep, want)
		}
		copy(model[w.off:], data)
	}
	if !bytes.Equal(r.mem.Bytes(), model) {
		t.Fatalf("device differs from the model at byte %d", firstDiff(r.mem.Bytes(), model))
	}
	// Every (offset, length) on a grid around the boundaries, inline
	// and through the buffer.
	for _, off := range []int64{0, 1, 4095, 4096, 4097, 8191, 3*blockSize + 17} {
		for _, n := range []uint32{0, 1, 2, 100, 3072} {
			rep, err := r.srv.Read(ctx, 1, fileproto.ReadRequest{Fid: fid, Off: off, Len: n})
			if err != nil {
				t.Fatalf("read %d at %d: %v", n, off, err)
			}
			if want := model[off : off+int64(n)]; rep.N != n || !bytes.Equal(rep.Data, want) {
				t.Errorf("read %d at %d: got %d bytes, differing at %d", n, off, rep.N, firstDiff(rep.Data, want))
			}
		}
		for _, n := range []uint32{1, blockSize - 1, blockSize, 3*blockSize + 5} {
			clear(shared)
			rep, err := r.srv.Read(ctx, 1, fileproto.ReadRequest{Fid: fid, Off: off, Len: n, Buf: buf, BufOff: 9})
			if err != nil {
				t.Fatalf("read %d at %d into the buffer: %v", n, off, err)
			}
			if want := model[off : off+int64(n)]; rep.N != n || rep.Data != nil || !bytes.Equal(shared[9:9+n], want) {
				t.Errorf("read %d at %d into the buffer: got %d bytes, differing at %d", n, off, rep.N, firstDiff(shared[9:9+n], want))
			}
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestEnd checks reads and writes at and past the end of the device.
func TestEnd(t *testing.T) {
	const size = 4 * blockSize
	r := newRig(t, 4, Options{})
	fid := r.open(t, 1, root, fileproto.O_RDWR|fileproto.O_APPEND)
	reads := []struct {
		off   int64
		n     uint32
		wantN uint32
		want  syscall.Errno
	}{
		{size - 10, 100, 10, 0},
		{size - 1, 1, 1, 0},
		{size, 100, 0, 0},
		{size + 1, 100, 0, 0},
		{1 << 62, 100, 0, 0},
		{-1, 1, 0, syscall.EINVAL},
		{0, fileproto.MaxInline + 1, 0, syscall.EINVAL},
	}
	for _, tt := range reads {
		rep, err := r.srv.Read(ctx, 1, fileproto.ReadRequest{Fid: fid, Off: tt.off, Len: tt.n})
		checkCode(t, fmt.Sprintf("read %d at %d", tt.n, tt.off), err, tt.want)
		if rep.N != tt.wantN || len(rep.Data) != int(tt.wantN) {
			t.Errorf("read %d at %d: got %d bytes (%d inline), want %d", tt.n, tt.off, rep.N, len(rep.Data), tt.wantN)
		}
	}
	writes := []struct {
		off  int64
		n    int
		want fileproto.WriteReply
		errn syscall.Errno
	}{
		{size - 10, 100, fileproto.WriteReply{N: 10, End: size}, 0}, // short
		{size - 1, 1, fileproto.WriteReply{N: 1, End: size}, 0},     // fits exactly
		{size, 1, fileproto.WriteReply{}, syscall.ENOSPC},           // nothing fits
		{size + 5000, 1, fileproto.WriteReply{}, syscall.ENOSPC},    //
		{size + 5000, 0, fileproto.WriteReply{End: size + 5000}, 0}, // 0 bytes succeed anywhere
		{10, 5, fileproto.WriteReply{N: 5, End: 15}, 0},             // O_APPEND is ignored
		{-1, 1, fileproto.WriteReply{}, syscall.EINVAL},             //
		{0, fileproto.MaxInline + 1, fileproto.WriteReply{}, syscall.EINVAL},
	}
	for _, tt := range writes {
		rep, err := r.srv.Write(ctx, 1, fileproto.WriteRequest{Fid: fid, Off: tt.off, Data: bytes.Repeat([]byte{0xee}, tt.n)})
		checkCode(t, fmt.Sprintf("write %d at %d", tt.n, tt.off), err, tt.errn)
		if rep != tt.want {
			t.Errorf("write %d at %d: got %+v, want %+v", tt.n, tt.off, rep, tt.want)
		}
	}
	want := bytes.Repeat([]byte{0xee}, 10)
	if got := r.mem.Bytes()[size-10:]; !bytes.Equal(got, want) {
		t.Errorf("last 10 bytes: got %x, want %x", got, want)
	}
}

// TestFids checks that Fids are per client and per access mode.
func TestFids(t *testing.T) {
	r := newRig(t, 4, Options{MaxFilesPerClient: 3})
	ro := r.open(t, 1, root, fileproto.O_RDONLY)
	wo := r.open(t, 1, root, fileproto.O_WRONLY)
	r.open(t, 2, root, fileproto.O_RDWR)
	r.open(t, 2, root, fileproto.O_RDWR)
	theirs := r.open(t, 2, root, fileproto.O_RDWR) // Fid 3, which client 1 does not have
	srv := r.srv
	tests := []struct {
		name string
		call func() error
		want syscall.Errno
	}{
		{"read write-only", func() error { _, err := srv.Read(ctx, 1, fileproto.ReadRequest{Fid: wo, Len: 1}); return err }, syscall.EBADF},
		{"write read-only", func() error {
			_, err := srv.Write(ctx, 1, fileproto.WriteRequest{Fid: ro, Data: []byte{1}})
			return err
		}, syscall.EBADF},
		{"read fid 0", func() error { _, err := srv.Read(ctx, 1, fileproto.ReadRequest{Len: 1}); return err }, syscall.EBADF},
		{"read another's", func() error { _, err := srv.Read(ctx, 1, fileproto.ReadRequest{Fid: theirs, Len: 1}); return err }, syscall.EBADF},
		{"write another's", func() error {
			_, err := srv.Write(ctx, 1, fileproto.WriteRequest{Fid: theirs, Data: []byte{1}})
			return err
		}, syscall.EBADF},
		{"fstat another's", func() error { _, err := srv.Fstat(ctx, 1, fileproto.FidRequest{Fid: theirs}); return err }, syscall.EBADF},
		{"fsync another's", func() error { _, err := srv.Fsync(ctx, 1, fileproto.FidRequest{Fid: theirs}); return err }, syscall.EBADF},
		{"close another's", func() error { _, err := srv.Close(ctx, 1, fileproto.FidRequest{Fid: theirs}); return err }, syscall.EBADF},
		{"read by a stranger", func() error { _, err := srv.Read(ctx, 9, fileproto.ReadRequest{Fid: ro, Len: 1}); return err }, syscall.EBADF},
		{"fsync read-only", func() error { _, err := srv.Fsync(ctx, 1, fileproto.FidRequest{Fid: ro}); return err }, 0},
		{"third file", func() error { _, err := srv.Open(ctx, 1, fileproto.OpenRequest{Cred: root}); return err }, 0},
		{"fourth file", func() error { _, err := srv.Open(ctx, 1, fileproto.OpenRequest{Cred: root}); return err }, syscall.EMFILE},
		{"close", func() error { _, err := srv.Close(ctx, 1, fileproto.FidRequest{Fid: ro}); return err }, 0},
		{"close again", func() error { _, err := srv.Close(ctx, 1, fileproto.FidRequest{Fid: ro}); return err }, syscall.EBADF},
		{"read closed", func() error { _, err := srv.Read(ctx, 1, fileproto.ReadRequest{Fid: ro, Len: 1}); return err }, syscall.EBADF},
		{"another's still open", func() error { _, err := srv.Fstat(ctx, 2, fileproto.FidRequest{Fid: theirs}); return err }, 0},
	}
	for _, tt := range tests {
		checkCode(t, tt.name, tt.call(), tt.want)
	}
}

func TestMaxFiles(t *testing.T) {
	r := newRig(t, 4, Options{MaxFiles: 2})
	r.open(t, 1, root, 0)
	r.open(t, 2, root, 0)
	_, err := r.srv.Open(ctx, 3, fileproto.OpenRequest{Cred: root})
	checkCode(t, "third file in all", err, syscall.ENFILE)
}

// TestForget: a client's Fids, buffers and claim go; others' stay.
func TestForget(t *testing.T) {
	r := newRig(t, 4, Options{})
	mine := r.open(t, 1, root, fileproto.O_RDWR|fileproto.O_EXCL)
	r.attach(t, 1, 8192)
	r.attach(t, 1, 4096)
	theirs := r.open(t, 2, root, fileproto.O_RDONLY)
	theirBuf, _ := r.attach(t, 2, 4096)
	if _, err := r.srv.Forget(ctx, 1, fileproto.Empty{}); err != nil {
		t.Fatal(err)
	}
	_, err := r.srv.Fstat(ctx, 1, fileproto.FidRequest{Fid: mine})
	checkCode(t, "Fstat after Forget", err, syscall.EBADF)
	_, err = r.srv.Read(ctx, 2, fileproto.ReadRequest{Fid: theirs, Len: 10, Buf: theirBuf})
	checkCode(t, "the other client's read", err, 0)
	if got := r.shm.live(); got != 1 {
		t.Errorf("live buffers after Forget: got %d, want 1", got)
	}
	r.open(t, 3, root, fileproto.O_RDONLY|fileproto.O_EXCL) // the claim is gone
	if _, err := r.srv.Forget(ctx, 1, fileproto.Empty{}); err != nil {
		t.Errorf("Forget of nothing: %v", err)
	}
	r.srv.Forget(ctx, 2, fileproto.Empty{})
	r.srv.Forget(ctx, 3, fileproto.Empty{})
	s := r.srv
	got := []any{len(s.clients), s.nfiles, s.shared, s.exclusive, r.shm.live()}
	if diff := cmp.Diff([]any{0, 0, uint64(0), 0, 0}, got); diff != "" {
		t.Errorf("clients, files, shared bytes, claims, buffers after all forgot (-want +got):\n%s", diff)
	}
}

func TestBuffers(t *testing.T) {
	r := newRig(t, 4, Options{MaxSharedBytes: 5 * blockSize})
	fid := r.open(t, 1, root, fileproto.O_RDWR)
	a, _ := r.attach(t, 1, blockSize)
	srv := r.srv
	attach := func(badge uint64, size uint64) func() error {
		return func() error { _, err := srv.Attach(ctx, badge, fileproto.AttachRequest{Size: size}); return err }
	}
	tests := []struct {
		name string
		call func() error
		want syscall.Errno
	}{
		{"size 0", attach(1, 0), syscall.EINVAL},
		{"over MaxBuffer", attach(1, fileproto.MaxBuffer+1), syscall.EINVAL},
		{"over MaxSharedBytes", attach(1, 5*blockSize), syscall.ENOMEM},
		{"second", attach(1, 1), 0},
		{"third", attach(1, 1), 0},
		{"fourth", attach(1, 1), 0},
		{"fifth", attach(1, 1), syscall.ENOSPC},
		{"read past the buffer", func() error {
			_, err := srv.Read(ctx, 1, fileproto.ReadRequest{Fid: fid, Len: 2, Buf: a, BufOff: blockSize - 1})
			return err
		}, syscall.EFAULT},
		{"write past the buffer", func() error {
			_, err := srv.Write(ctx, 1, fileproto.WriteRequest{Fid: fid, Len: 1, Buf: a, BufOff: blockSize})
			return err
		}, syscall.EFAULT},
		{"huge offset", func() error {
			_, err := srv.Read(ctx, 1, fileproto.ReadRequest{Fid: fid, Len: 2, Buf: a, BufOff: ^uint64(0)})
			return err
		}, syscall.EFAULT},
		{"unknown buffer", func() error {
			_, err := srv.Read(ctx, 1, fileproto.ReadRequest{Fid: fid, Len: 1, Buf: 77})
			return err
		}, syscall.EFAULT},
		{"another client's buffer", func() error {
			fid2 := r.open(t, 2, root, fileproto.O_RDWR)
			_, err := srv.Read(ctx, 2, fileproto.ReadRequest{Fid: fid2, Len: 1, Buf: a})
			return err
		}, syscall.EFAULT},
		{"detach", func() error { _, err := srv.Detach(ctx, 1, fileproto.DetachRequest{ID: a}); return err }, 0},
		{"detach again", func() error { _, err := srv.Detach(ctx, 1, fileproto.DetachRequest{ID: a}); return err }, syscall.EFAULT},
		{"read detached", func() error {
			_, err := srv.Read(ctx, 1, fileproto.ReadRequest{Fid: fid, Len: 1, Buf: a})
			return err
		}, syscall.EFAULT},
	}
	for _, tt := range tests {
		checkCode(t, tt.name, tt.call(), tt.want)
	}
	noMem := New(r.dev, Options{})
	_, err := noMem.Attach(ctx, 1, fileproto.AttachRequest{Size: 1})
	checkCode(t, "Attach without Memory", err, syscall.EOPNOTSUPP)
}

// TestConcurrentWriters has many clients write 2-byte runs into the
// same blocks at once, each run its own, some straddling a block
// boundary, while readers read across them. Every byte must survive the
// read-modify-write of the others, and a reader must see each run
// either all old or all new. Run with -race.
func TestConcurrentWriters(t *testing.T) {
	const (
		writers = 32
		start   = blockSize - 2047 // odd: the run at 4095 straddles a boundary
		runs    = 4096             // 8 KiB of runs over three blocks
	)
	r := newRig(t, 4, Options{})
	old := bytes.Clone(r.mem.Bytes())
	run := func(k int) []byte { return []byte{byte(k%writers + 1), byte(k)} }
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			badge := uint64(w + 1)
			fid := r.open(t, badge, root, fileproto.O_RDWR)
			for k := w; k < runs; k += writers {
				if _, err := r.srv.Write(ctx, badge, fileproto.WriteRequest{Fid: fid, Off: int64(start + 2*k), Data: run(k)}); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			fid := r.open(t, 100, root, fileproto.O_RDONLY)
			for i := range 100 {
				k0 := i * 37 % (runs - fileproto.MaxInline/2)
				rep, err := r.srv.Read(ctx, 100, fileproto.ReadRequest{Fid: fid, Off: int64(start + 2*k0), Len: fileproto.MaxInline})
				if err != nil {
					t.Errorf("reader: %v", err)
					return
				}
				for j := 0; j+1 < len(rep.Data); j += 2 {
					k, got := k0+j/2, rep.Data[j:j+2]
					if o := old[start+2*k:][:2]; !bytes.Equal(got, o) && !bytes.Equal(got, run(k)) {
						t.Errorf("reader: run %d is %x, neither old %x nor new %x", k, got, o, run(k))
						return
					}
				}
			}
		})
	}
	wg.Wait()
	want := bytes.Clone(old)
	for k := range runs {
		copy(want[start+2*k:], run(k))
	}
	if got := r.mem.Bytes(); !bytes.Equal(got, want) {
		i := firstDiff(got, want)
		t.Fatalf("device differs at byte %d: got %x, want %x", i, got[i], want[i])
	}
}

// TestFlush: Fsync and Sync flush the device, and so does every write
// through an O_SYNC or O_DSYNC file; other writes do not.
func TestFlush(t *testing.T) {
	r := newRig(t, 4, Options{})
	plain := r.open(t, 1, root, fileproto.O_RDWR)
	dsync := r.open(t, 1, root, fileproto.O_WRONLY|oDsync)
	rdonly := r.open(t, 1, root, fileproto.O_RDONLY)
	srv := r.srv
	steps := []struct {
		name string
		call func() error
		want int64 // flushes so far
	}{
		{"write", func() error {
			_, err := srv.Write(ctx, 1, fileproto.WriteRequest{Fid: plain, Data: []byte("x")})
			return err
		}, 0},
		{"fsync", func() error { _, err := srv.Fsync(ctx, 1, fileproto.FidRequest{Fid: plain}); return err }, 1},
		{"fsync read-only", func() error { _, err := srv.Fsync(ctx, 1, fileproto.FidRequest{Fid: rdonly}); return err }, 2},
		{"O_DSYNC write", func() error {
			_, err := srv.Write(ctx, 1, fileproto.WriteRequest{Fid: dsync, Data: []byte("x")})
			return err
		}, 3},
		{"O_DSYNC write of nothing", func() error { _, err := srv.Write(ctx, 1, fileproto.WriteRequest{Fid: dsync}); return err }, 3},
		{"sync", func() error { _, err := srv.Sync(ctx, 7, fileproto.Empty{}); return err }, 4},
		{"fsync bad fid", func() error { _, err := srv.Fsync(ctx, 1, fileproto.FidRequest{Fid: 99}); return err }, 4},
	}
	for _, st := range steps {
		err := st.call()
		if st.name == "fsync bad fid" {
			checkCode(t, st.name, err, syscall.EBADF)
		} else {
			checkCode(t, st.name, err, 0)
		}
		if got := r.dev.flushes.Load(); got != st.want {
			t.Errorf("after %s: %d flushes, want %d", st.name, got, st.want)
		}
	}
}

// TestDeviceErrors: a failing device gives EIO with its message; a
// write that fails part way reports what reached the device.
func TestDeviceErrors(t *testing.T) {
	tests := []struct {
		name  string
		fail  func(d *testDevice)
		call  func(s *Server, fid uint32) (any, error)
		want  syscall.Errno
		reply any
	}{
		{"read", func(d *testDevice) { d.failRead.Store(true) }, func(s *Server, fid uint32) (any, error) {
			return s.Read(ctx, 1, fileproto.ReadRequest{Fid: fid, Off: 10, Len: 10})
		}, syscall.EIO, fileproto.ReadReply{}},
		{"aligned write", func(d *testDevice) { d.failWrite.Store(true) }, func(s *Server, fid uint32) (any, error) {
			return s.Write(ctx, 1, fileproto.WriteRequest{Fid: fid, Off: 0, Data: make([]byte, 100)})
		}, syscall.EIO, fileproto.WriteReply{}},
		{"read of a partial write", func(d *testDevice) { d.failRead.Store(true) }, func(s *Server, fid uint32) (any, error) {
			return s.Write(ctx, 1, fileproto.WriteRequest{Fid: fid, Off: 1, Data: make([]byte, 100)})
		}, syscall.EIO, fileproto.WriteReply{}},
		{"second block of a write", func(d *testDevice) { d.writesLeft.Store(1) }, func(s *Server, fid uint32) (any, error) {
			return s.Write(ctx, 1, fileproto.WriteRequest{Fid: fid, Off: blockSize - 10, Data: make([]byte, 100)})
		}, 0, fileproto.WriteReply{N: 10, End: blockSize}},
		{"fsync", func(d *testDevice) { d.failFlush.Store(true) }, func(s *Server, fid uint32) (any, error) {
			return s.Fsync(ctx, 1, fileproto.FidRequest{Fid: fid})
		}, syscall.EIO, fileproto.Empty{}},
		{"sync", func(d *testDevice) { d.failFlush.Store(true) }, func(s *Server, fid uint32) (any, error) {
			return s.Sync(ctx, 1, fileproto.Empty{})
		}, syscall.EIO, fileproto.Empty{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, 4, Options{Name: "vdb"})
			fid := r.open(t, 1, root, fileproto.O_RDWR)
			tt.fail(r.dev)
			rep, err := tt.call(r.srv, fid)
			checkCode(t, tt.name, err, tt.want)
			if err != nil && !strings.Contains(err.Error(), errMedium.Error()) || err != nil && !strings.Contains(err.Error(), "vdb") {
				t.Errorf("error %q does not name the device and the cause %q", err, errMedium)
			}
			if diff := cmp.Diff(tt.reply, rep); diff != "" {
				t.Errorf("reply (-want +got):\n%s", diff)
			}
		})
	}
}
