package proc

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
	"valence.dev/microkernel/obj"
	"valence.dev/servers/fs/fileproto"
)

// Forwarding to file servers. A remote mount is a server of the file
// protocol (servers/fs/fileproto; fsd is one) behind an endpoint: the
// kernel calls it as a client, with the badge of the capability it was
// mounted with, on behalf of the process making the file call. Open files
// are the server's file ids; the kernel is one client of the server for
// every process, and closes an id when the last descriptor on the open
// file description is closed.
//
// A dead server fails calls with EIO at once (the call never hangs on a
// server that is gone). When the mount is given a restarted server
// (MountReplace), files opened before are reopened by path on first use,
// without O_CREAT, O_EXCL and O_TRUNC, so a program that had a file open
// across the restart goes on with it; a file that cannot be reopened
// (removed meanwhile) gives EIO.

// remoteMount is one mounted server. It is shared by every mount table
// that has it, so a replacement reaches them all.
type remoteMount struct {
	mu     sync.Mutex
	ep     *obj.Endpoint
	badge  uint64
	gen    uint64 // incremented by each replacement
	owner  int    // the PID that mounted it: only it may replace the server
	source string
	nopen  atomic.Int64 // files open on it (umount2 of a mount in use is EBUSY)
	idleMu sync.Mutex
	onIdle func() // run at the last close (whenIdle)

	// Shared buffers (remotebuf.go).
	bufMu  sync.Mutex
	free   []*sharedBuf
	nbufs  int    // attached, free or in use
	noBufs uint64 // the generation whose server gave no buffer (0: none)
}

// openFiles returns how many files are open on the mount.
func (m *remoteMount) openFiles() int64 { return m.nopen.Load() }

// whenIdle arranges for f to run (on its own goroutine) when the last
// file open on the mount is closed, and reports true; with no file open
// it does nothing and reports false.
func (m *remoteMount) whenIdle(f func()) bool {
	m.idleMu.Lock()
	defer m.idleMu.Unlock()
	if m.nopen.Load() == 0 {
		return false
	}
	m.onIdle = f
	return true
}

// closed counts a file's close, running the idle callback after the last.
func (m *remoteMount) closed() {
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

func (m *remoteMount) current() (*obj.Endpoint, uint64, uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ep, m.badge, m.gen
}

func (m *remoteMount) replace(ep *obj.Endpoint, badge uint64) {
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
	m    *remoteMount
	t    *Thread   // the calling thread; nil: wait at most remoteCallTimeout
	keep **transit // if set, gets the reply's handles (which the caller drops)
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
		pid = k.t.proc.PID
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
		k.t.inCall.Store(true)
		defer k.t.inCall.Store(false)
	}
	for waiting := true; waiting; {
		var intr <-chan struct{}
		if k.t != nil {
			k.t.canBlock()
			intr = k.t.intr
		}
		select {
		case <-cl.Done():
			waiting = false
		case <-intr:
			if k.t.proc.Exiting() {
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
	if tr := transitOf(cl.ReplyTr); k.keep != nil && tr != nil {
		// The handles stay in the transit table, and the reply names
		// them by their values there.
		*k.keep = tr
		rep.NHandles = uint32(tr.n)
		rep.Handles = tr.hs
	} else {
		// Only Attach returns handles; a server that sends some with
		// anything else loses them.
		tr.drop()
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

// remoteFS is a mount served by a file server.
type remoteFS struct{ m *remoteMount }

func (fs remoteFS) client(c *call) fileproto.Client {
	var t *Thread
	if c != nil {
		t = c.t
	}
	return fileproto.Client{T: kernelTransport{m: fs.m, t: t}}
}

var bg = context.Background()

// target is at in the protocol's terms: a path from the mount's root,
// or an open file (an empty path at its id).
func (fs remoteFS) target(c *call, at fsAt) (fileproto.At, errno.Errno) {
	if at.f == nil {
		return fileproto.At{Path: at.rel}, 0
	}
	var rf *remoteFile
	switch f := at.f.(type) {
	case *remoteFile:
		rf = f
	case *remoteDir:
		rf = f.remoteFile
	}
	if rf == nil || rf.fs.m != fs.m {
		return fileproto.At{}, errno.EXDEV
	}
	fid, e := rf.id(c)
	if e != 0 {
		return fileproto.At{}, e
	}
	return fileproto.At{Dir: fid}, 0
}

func (fs remoteFS) open(c *call, at fsAt, flags, mode uint32) (file, errno.Errno) {
	a, e := fs.target(c, at)
	if e != 0 {
		return nil, e
	}
	_, _, gen := fs.m.current()
	rep, err := fs.client(c).Open(bg, fileproto.OpenRequest{Cred: c.fsCred(), At: a,
		Flags: flags &^ (linux.O_CLOEXEC | linux.O_NONBLOCK | linux.O_NOCTTY | linux.O_LARGEFILE), Mode: mode})
	if err != nil {
		return nil, rpcErrno(err)
	}
	f := &remoteFile{fs: fs, fid: rep.Fid, gen: gen, rel: at.rel, flags: flags,
		isDir: rep.Stat.Mode&linux.S_IFMT == linux.S_IFDIR}
	fs.m.nopen.Add(1)
	if f.isDir {
		return &remoteDir{remoteFile: f}, 0
	}
	return f, 0
}

func (fs remoteFS) stat(c *call, at fsAt, flags uint32) (linux.Stat, errno.Errno) {
	if at.f != nil {
		return statOf(c, at.f)
	}
	st, err := fs.client(c).Stat(bg, fileproto.StatRequest{Cred: c.fsCred(), At: fileproto.At{Path: at.rel},
		Flags: flags & linux.AT_SYMLINK_NOFOLLOW})
	if err != nil {
		return linux.Stat{}, rpcErrno(err)
	}
	return linuxStat(st), 0
}

func (fs remoteFS) readlink(c *call, at fsAt) (string, errno.Errno) {
	a, e := fs.target(c, at)
	if e != 0 {
		return "", e
	}
	s, err := fs.client(c).Readlink(bg, fileproto.PathRequest{Cred: c.fsCred(), At: a})
	return s, rpcErrno(err)
}

func (fs remoteFS) access(c *call, at fsAt, mode, flags uint32) errno.Errno {
	a, e := fs.target(c, at)
	if e != 0 {
		return e
	}
	return rpcErrno(fs.client(c).Access(bg, fileproto.AccessRequest{Cred: c.fsCred(), At: a, Mode: mode,
		Flags: flags & (linux.AT_SYMLINK_NOFOLLOW | linux.AT_EACCESS)}))
}

func (fs remoteFS) mkdir(c *call, at fsAt, mode uint32) errno.Errno {
	return rpcErrno(fs.client(c).Mkdir(bg, fileproto.MkdirRequest{Cred: c.fsCred(), At: fileproto.At{Path: at.rel}, Mode: mode}))
}

func (fs remoteFS) unlink(c *call, at fsAt, flags uint32) errno.Errno {
	return rpcErrno(fs.client(c).Unlink(bg, fileproto.UnlinkRequest{Cred: c.fsCred(), At: fileproto.At{Path: at.rel},
		Flags: flags & linux.AT_REMOVEDIR}))
}

func (fs remoteFS) rename(c *call, from, to fsAt, flags uint32) errno.Errno {
	return rpcErrno(fs.client(c).Rename(bg, fileproto.RenameRequest{Cred: c.fsCred(),
		Old: fileproto.At{Path: from.rel}, New: fileproto.At{Path: to.rel}, Flags: flags}))
}

func (fs remoteFS) link(c *call, from, to fsAt, flags uint32) errno.Errno {
	a, e := fs.target(c, from)
	if e != 0 {
		return e
	}
	return rpcErrno(fs.client(c).Link(bg, fileproto.LinkRequest{Cred: c.fsCred(), Old: a,
		New: fileproto.At{Path: to.rel}, Flags: flags & linux.AT_SYMLINK_FOLLOW}))
}

func (fs remoteFS) symlink(c *call, target string, at fsAt) errno.Errno {
	return rpcErrno(fs.client(c).Symlink(bg, fileproto.SymlinkRequest{Cred: c.fsCred(), Target: target,
		At: fileproto.At{Path: at.rel}}))
}

func (fs remoteFS) chmod(c *call, at fsAt, mode, flags uint32) errno.Errno {
	a, e := fs.target(c, at)
	if e != 0 {
		return e
	}
	return rpcErrno(fs.client(c).Chmod(bg, fileproto.ChmodRequest{Cred: c.fsCred(), At: a, Mode: mode,
		Flags: flags & linux.AT_SYMLINK_NOFOLLOW}))
}

func (fs remoteFS) chown(c *call, at fsAt, uid, gid, flags uint32) errno.Errno {
	a, e := fs.target(c, at)
	if e != 0 {
		return e
	}
	return rpcErrno(fs.client(c).Chown(bg, fileproto.ChownRequest{Cred: c.fsCred(), At: a, Uid: uid, Gid: gid,
		Flags: flags & linux.AT_SYMLINK_NOFOLLOW}))
}

func (fs remoteFS) utimens(c *call, at fsAt, atime, mtime fileproto.Timespec, flags uint32) errno.Errno {
	a, e := fs.target(c, at)
	if e != 0 {
		return e
	}
	return rpcErrno(fs.client(c).Utimens(bg, fileproto.UtimensRequest{Cred: c.fsCred(), At: a,
		Atime: atime, Mtime: mtime, Flags: flags & linux.AT_SYMLINK_NOFOLLOW}))
}

func (fs remoteFS) truncate(c *call, at fsAt, size int64) errno.Errno {
	a, e := fs.target(c, at)
	if e != 0 {
		return e
	}
	return rpcErrno(fs.client(c).Truncate(bg, fileproto.TruncateRequest{Cred: c.fsCred(), At: a, Size: size}))
}

func (fs remoteFS) fsync(c *call, f file) errno.Errno {
	a, e := fs.target(c, fsAt{f: f})
	if e != 0 {
		return e
	}
	return rpcErrno(fs.client(c).Fsync(bg, a.Dir))
}

func (fs remoteFS) statfs(c *call) (linux.Statfs, errno.Errno) {
	s, err := fs.client(c).Statfs(bg)
	if err != nil {
		return linux.Statfs{}, rpcErrno(err)
	}
	return linux.Statfs{Type: s.Type, BlockSize: s.Bsize, Blocks: s.Blocks, BlocksFree: s.Bfree,
		BlocksAvailable: s.Bavail, Files: s.Files, FilesFree: s.Ffree,
		FSID: [2]int32{int32(s.Fsid), int32(s.Fsid >> 32)}, NameLength: uint64(s.Namelen),
		FragmentSize: s.Frsize, Flags: linux.ST_VALID}, 0
}

func (fs remoteFS) sync(c *call) errno.Errno {
	return rpcErrno(fs.client(c).Sync(bg))
}

// linuxStat is a protocol Stat as stat(2) reports it.
func linuxStat(s fileproto.Stat) linux.Stat {
	return linux.Stat{Dev: s.Dev, Ino: s.Ino, Nlink: uint64(s.Nlink), Mode: s.Mode, UID: s.Uid, GID: s.Gid, Rdev: s.Rdev,
		Size: s.Size, Blksize: int64(s.Blksize), Blocks: s.Blocks,
		ATime: linux.Timespec{Sec: s.Atime.Sec, Nsec: s.Atime.Nsec},
		MTime: linux.Timespec{Sec: s.Mtime.Sec, Nsec: s.Mtime.Nsec},
		CTime: linux.Timespec{Sec: s.Ctime.Sec, Nsec: s.Ctime.Nsec}}
}
