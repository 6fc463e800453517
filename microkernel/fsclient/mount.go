package fsclient

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/obj"
	"valence.dev/servers/fs/fileproto"
)

// mount is one mounted server. It is shared by every mount table that
// has it, so a replacement reaches them all.
type mount struct {
	mu     sync.Mutex
	ep     *obj.Endpoint
	badge  uint64
	gen    uint64 // incremented by each replacement
	owner  int    // the PID that mounted it: only it may replace the server
	source string
	nopen  atomic.Int64 // files open on it (umount2 of a mount in use is EBUSY)
	idleMu sync.Mutex
	onIdle func() // run at the last close (WhenIdle)

	// Shared buffers (buf.go).
	bufMu  sync.Mutex
	free   []*sharedBuf
	nbufs  int    // attached, free or in use
	noBufs uint64 // the generation whose server gave no buffer (0: none)
}

func (m *mount) current() (*obj.Endpoint, uint64, uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ep, m.badge, m.gen
}

func (m *mount) replace(ep *obj.Endpoint, badge uint64) {
	m.mu.Lock()
	m.ep, m.badge = ep, badge
	m.gen++
	m.mu.Unlock()
	// Buffers of the old server are let go as they come back (getBuf).
}

// remoteCallTimeout bounds calls made without a calling thread (closing
// a file as its last descriptor goes, fstat from lseek): nothing a
// process does can then end the wait, so a server that stops answering
// must not hold the kernel forever.
const remoteCallTimeout = 60 * time.Second

// kernelTransport is rpc.Transport over a remote mount's endpoint.
type kernelTransport struct {
	m    *mount
	t    kfile.Caller // the calling thread; nil: wait at most remoteCallTimeout
	keep *Handles     // if set, gets the reply's handles (which the caller drops)
}

// Call sends req and waits for the reply. As valence_call does, it does
// not give up for a signal (the server may already be carrying the
// request out); only the caller's death abandons the call.
func (k kernelTransport) Call(ctx context.Context, req, rep *ipc.Message) error {
	ep, badge, _ := k.m.current()
	if ep == nil {
		return obj.ErrPeerDied
	}
	pid := 0
	if k.t != nil {
		pid = k.t.PID()
	}
	cl := obj.NewCall(pid, badge)
	cl.Msg.Header = req.Header
	cl.Msg.NHandles = 0
	copy(cl.Msg.Data[:req.DataLen], req.Data[:req.DataLen])
	if err := ep.Send(cl); err != nil {
		if errors.Is(err, obj.ErrPeerDied) {
			k.m.serverGone()
		}
		return err
	}
	var timeout <-chan time.Time
	if k.t == nil {
		tm := time.NewTimer(remoteCallTimeout)
		defer tm.Stop()
		timeout = tm.C
	} else {
		k.t.SetInCall(true)
		defer k.t.SetInCall(false)
	}
	for waiting := true; waiting; {
		var intr <-chan struct{}
		if k.t != nil {
			k.t.CanBlock()
			intr = k.t.Interrupted()
		}
		select {
		case <-cl.Done():
			waiting = false
		case <-intr:
			if k.t.Exiting() {
				ep.Abandon(cl)
				<-cl.Done()
				waiting = false
			}
		case <-timeout:
			ep.Abandon(cl)
			<-cl.Done()
			waiting = false
		}
	}
	if cl.Err != nil {
		if errors.Is(cl.Err, obj.ErrPeerDied) {
			k.m.serverGone()
		}
		return cl.Err
	}
	rep.Header = cl.Reply.Header
	rep.NHandles = 0
	tr, _ := cl.ReplyTr.(Handles)
	if hs := handleValues(tr); k.keep != nil && len(hs) > 0 {
		// The handles stay in the transit table, and the reply names
		// them by their values there.
		*k.keep = tr
		rep.NHandles = uint32(len(hs))
		rep.Handles = [ipc.MaxHandles]ipc.Handle{}
		copy(rep.Handles[:], hs)
	} else if tr != nil {
		// Only Attach returns handles; a server that sends some with
		// anything else loses them.
		tr.Drop()
	}
	n := min(int(cl.Reply.DataLen), len(rep.Data))
	copy(rep.Data[:n], cl.Reply.Data[:n])
	cl.Release()
	return nil
}

// rpcErrno is the errno a program sees for a failed remote call: the
// server's own errno, or EIO when the server is gone or did not answer
// (EINTR if the caller is being killed).
func rpcErrno(err error) errno.Errno {
	if err == nil {
		return 0
	}
	var re *rpc.Error
	if errors.As(err, &re) && re.Code > 0 && re.Code < 4096 {
		return errno.Errno(re.Code)
	}
	if errors.Is(err, obj.ErrInterrupted) {
		return errno.EINTR
	}
	return errno.EIO
}

// New returns the filesystem of the server behind ep, called with badge;
// owner is the PID that mounts it (only it may replace the server) and
// source the name /proc/mounts shows.
func New(ep *obj.Endpoint, badge uint64, owner int, source string) FS {
	return FS{m: &mount{ep: ep, badge: badge, owner: owner, source: source}}
}

// Owner is the PID that mounted the server.
func (fs FS) Owner() int { return fs.m.owner }

// Source is the name the mount was given.
func (fs FS) Source() string { return fs.m.source }

// Replace gives the mount a new server (MountReplace): files open on
// the old one are reopened on it at their next use.
func (fs FS) Replace(ep *obj.Endpoint, badge uint64) { fs.m.replace(ep, badge) }

// Same reports whether fs and o are the same server connection (one
// mount, bound or inherited in many places).
func (fs FS) Same(o FS) bool { return fs.m == o.m }

// Transport is an rpc.Transport to fs's server for c (nil: the kernel's
// own call, bounded by remoteCallTimeout). keep, if not nil, receives the
// handles a reply brings, for the caller to take what it needs from and
// Drop. The kernel calls other servers than file servers this way (the
// mounter).
func (fs FS) Transport(c kfile.Caller, keep *Handles) rpc.Transport {
	return kernelTransport{m: fs.m, t: c, keep: keep}
}

// Errno is the errno a program sees for a failed call (rpcErrno).
func Errno(err error) errno.Errno { return rpcErrno(err) }

// OpenFiles returns how many files are open on the mount.
func (fs FS) OpenFiles() int64 { return fs.m.nopen.Load() }

// WhenIdle arranges for f to run (on its own goroutine) when the last
// file open on the mount is closed, and reports true; with no file open
// it does nothing and reports false.
func (fs FS) WhenIdle(f func()) bool {
	m := fs.m
	m.idleMu.Lock()
	defer m.idleMu.Unlock()
	if m.nopen.Load() == 0 {
		return false
	}
	m.onIdle = f
	return true
}

// closed counts a file's close, running the idle callback after the last.
func (m *mount) closed() {
	if m.nopen.Add(-1) != 0 {
		return
	}
	m.idleMu.Lock()
	f := m.onIdle
	if m.nopen.Load() == 0 {
		m.onIdle = nil
	} else {
		f = nil // a file was opened meanwhile: wait for its close
	}
	m.idleMu.Unlock()
	if f != nil {
		go f()
	}
}

// cred is the identity the server checks a call against. Every process
// is root until the kernel has users (docs/processes.md).
func cred(kfile.Caller) fileproto.Cred { return fileproto.Cred{} }
