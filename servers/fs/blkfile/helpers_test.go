package blkfile

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
	"valence.dev/servers/fs/blockdev"
	"valence.dev/servers/fs/fileproto"
	"valence.dev/servers/fs/fsd"
)

var (
	ctx   = context.Background()
	root  = fileproto.Cred{}
	alice = fileproto.Cred{Uid: 1000, Gid: 1000}                     // neither owner nor in the group
	dana  = fileproto.Cred{Uid: 1001, Gid: 100, Groups: []uint32{6}} // in "disk" by a supplementary group
)

// start is the clock of every test server.
var start = time.Unix(1700000000, 123)

func clock() time.Time { return start }

// fakeMemory is shared memory for tests: the handle is a number that
// bytes turns back into the buffer.
type fakeMemory struct {
	mu   sync.Mutex
	bufs map[ipc.Handle]*fsd.Shared
	next ipc.Handle
}

func newFakeMemory() *fakeMemory { return &fakeMemory{bufs: map[ipc.Handle]*fsd.Shared{}} }

func (m *fakeMemory) Alloc(size uint64) (*fsd.Shared, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	b := &fsd.Shared{Bytes: make([]byte, size), Handle: m.next}
	m.bufs[b.Handle] = b
	return b, nil
}

func (m *fakeMemory) Free(b *fsd.Shared) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.bufs, b.Handle)
}

func (m *fakeMemory) bytes(h ipc.Handle) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bufs[h].Bytes
}

func (m *fakeMemory) live() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.bufs)
}

// testDevice wraps a device, counts flushes and fails on demand.
type testDevice struct {
	blockdev.Device
	flushes   atomic.Int64
	failRead  atomic.Bool
	failWrite atomic.Bool
	failFlush atomic.Bool
	// writesLeft, when positive, is how many WriteAt calls succeed
	// before failWrite turns on by itself.
	writesLeft atomic.Int64
}

var errMedium = errors.New("medium error at LBA 42")

func (d *testDevice) ReadAt(p []byte, block uint64) error {
	if d.failRead.Load() {
		return errMedium
	}
	return d.Device.ReadAt(p, block)
}

func (d *testDevice) WriteAt(p []byte, block uint64) error {
	if d.writesLeft.Load() > 0 && d.writesLeft.Add(-1) == 0 {
		defer d.failWrite.Store(true)
	}
	if d.failWrite.Load() {
		return errMedium
	}
	return d.Device.WriteAt(p, block)
}

func (d *testDevice) Flush() error {
	d.flushes.Add(1)
	if d.failFlush.Load() {
		return errMedium
	}
	return d.Device.Flush()
}

// rig is a server on a device in memory, called directly.
type rig struct {
	mem *blockdev.Mem
	dev *testDevice
	shm *fakeMemory
	srv *Server
}

// newRig serves a device of blocks blocks whose byte i holds pattern(i).
// o.Memory, when nil, is a fakeMemory; o.Now is the fixed clock.
func newRig(t testing.TB, blocks uint64, o Options) *rig {
	t.Helper()
	mem := blockdev.NewMem(blocks)
	for i := range mem.Bytes() {
		mem.Bytes()[i] = pattern(i)
	}
	r := &rig{mem: mem, dev: &testDevice{Device: mem}, shm: newFakeMemory()}
	if o.Memory == nil {
		o.Memory = r.shm
	}
	o.Now = clock
	r.srv = New(r.dev, o)
	return r
}

// pattern is the initial content of byte i of a rig's device: not the
// same in any two neighbouring blocks.
func pattern(i int) byte { return byte(i*7 + i/blockSize*13) }

// open opens the root as cred with flags, failing the test on error.
func (r *rig) open(t testing.TB, badge uint64, cred fileproto.Cred, flags uint32) uint32 {
	t.Helper()
	rep, err := r.srv.Open(ctx, badge, fileproto.OpenRequest{Cred: cred, Flags: flags})
	if err != nil {
		t.Fatalf("open flags %#o as uid %d: %v", flags, cred.Uid, err)
	}
	return rep.Fid
}

// attach attaches a buffer of size bytes for badge and returns its id
// and bytes.
func (r *rig) attach(t testing.TB, badge uint64, size uint64) (uint32, []byte) {
	t.Helper()
	rep, err := r.srv.Attach(ctx, badge, fileproto.AttachRequest{Size: size})
	if err != nil {
		t.Fatalf("attach %d bytes: %v", size, err)
	}
	return rep.ID, r.shm.bytes(rep.Mem)
}

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

func errName(e syscall.Errno) string {
	if e == 0 {
		return "success"
	}
	return fmt.Sprintf("%d (%v)", int(e), e)
}

// checkCode fails the test unless err has errno want (0: success).
func checkCode(t testing.TB, what string, err error, want syscall.Errno) {
	t.Helper()
	if got := code(err); got != want {
		t.Errorf("%s: got %s (%v), want %s", what, errName(got), err, errName(want))
	}
}
