package fsclient

import (
	"sync"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
	"valence.dev/servers/fs/fileproto"
)

// file is a file open on a file server.
type file struct {
	fs    FS
	rel   string // its path in the mount, to reopen it on a restarted server
	flags uint32 // as opened
	isDir bool

	mu     sync.Mutex
	fid    uint32
	gen    uint64 // the mount generation fid belongs to
	broken bool   // could not be reopened on a restarted server
}

// id returns the file's id on the mount's current server, reopening
// the file there if the server was replaced since it was opened.
func (f *file) id(c kfile.Caller) (uint32, errno.Errno) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, _, gen := f.fs.m.current()
	if f.gen == gen {
		if f.broken {
			return 0, errno.EIO
		}
		return f.fid, 0
	}
	flags := f.flags &^ (linux.O_CREAT | linux.O_EXCL | linux.O_TRUNC | linux.O_CLOEXEC |
		linux.O_NONBLOCK | linux.O_NOCTTY | linux.O_LARGEFILE)
	rep, err := f.fs.client(c).Open(bg, fileproto.OpenRequest{Cred: cred(c), At: fileproto.At{Path: f.rel}, Flags: flags})
	f.gen = gen
	if err != nil {
		f.broken = true
		return 0, errno.EIO
	}
	f.fid, f.broken = rep.Fid, false
	return f.fid, 0
}

func (f *file) Read(c kfile.Caller, b []byte, off int64, nonblock bool) (int, errno.Errno) {
	if f.isDir {
		return 0, errno.EISDIR
	}
	fid, e := f.id(c)
	if e != 0 {
		return 0, e
	}
	cl := f.fs.client(c)
	var buf *sharedBuf
	if len(b) > fileproto.MaxInline {
		buf = f.fs.m.getBuf(c)
		defer f.fs.m.putBuf(buf)
	}
	done := 0
	for done < len(b) {
		var got, n int
		if buf != nil {
			n = min(len(b)-done, int(buf.Size()))
			rep, err := cl.Read(bg, fileproto.ReadRequest{Fid: fid, Off: off + int64(done), Len: uint32(n), Buf: buf.id})
			if err != nil {
				if done > 0 {
					break
				}
				return 0, rpcErrno(err)
			}
			got = min(int(rep.N), n)
			buf.CopyOut(0, b[done:done+got])
		} else {
			n = min(len(b)-done, fileproto.MaxInline)
			rep, err := cl.Read(bg, fileproto.ReadRequest{Fid: fid, Off: off + int64(done), Len: uint32(n)})
			if err != nil {
				if done > 0 {
					break
				}
				return 0, rpcErrno(err)
			}
			got = copy(b[done:done+n], rep.Data[:min(int(rep.N), len(rep.Data))])
		}
		done += got
		if got < n {
			break // the end of the file
		}
	}
	return done, 0
}

func (f *file) Write(c kfile.Caller, b []byte, off int64, nonblock bool) (int, errno.Errno) {
	n, _, e := f.WriteEnd(c, b, off)
	return n, e
}

// WriteEnd implements kfile.EndWriter: it writes b at off (at the end,
// for O_APPEND) and returns the offset just past what it wrote.
func (f *file) WriteEnd(c kfile.Caller, b []byte, off int64) (int, int64, errno.Errno) {
	fid, e := f.id(c)
	if e != 0 {
		return 0, off, e
	}
	cl := f.fs.client(c)
	var buf *sharedBuf
	if len(b) > fileproto.MaxInline {
		buf = f.fs.m.getBuf(c)
		defer f.fs.m.putBuf(buf)
	}
	done, end := 0, off
	for done < len(b) || len(b) == 0 {
		req := fileproto.WriteRequest{Fid: fid, Off: off + int64(done)}
		n := min(len(b)-done, fileproto.MaxInline)
		if buf != nil {
			n = min(len(b)-done, int(buf.Size()))
			buf.CopyIn(0, b[done:done+n])
			req.Buf, req.Len = buf.id, uint32(n)
		} else {
			req.Data = b[done : done+n]
		}
		rep, err := cl.Write(bg, req)
		if err != nil {
			if done > 0 {
				break
			}
			return 0, off, rpcErrno(err)
		}
		done += int(rep.N)
		end = rep.End
		if int(rep.N) < n || len(b) == 0 {
			break
		}
	}
	return done, end, 0
}

func (f *file) Seekable() bool { return true }

func (f *file) Stat() linux.Stat {
	st, _ := f.Fstat(nil)
	return st
}

// Fstat implements kfile.Statter: unlike Stat, it reports a failure.
func (f *file) Fstat(c kfile.Caller) (linux.Stat, errno.Errno) {
	fid, e := f.id(c)
	if e != 0 {
		return linux.Stat{}, e
	}
	st, err := f.fs.client(c).Fstat(bg, fid)
	if err != nil {
		return linux.Stat{}, rpcErrno(err)
	}
	return linuxStat(st), 0
}

func (f *file) Poll() (uint32, *kfile.Event) { return linux.EPOLLIN | linux.EPOLLOUT, nil }

// Release closes the id on the server, unless the server is not the one
// that gave it.
func (f *file) Release() {
	f.fs.m.closed()
	f.mu.Lock()
	_, _, gen := f.fs.m.current()
	stale := f.gen != gen || f.broken
	fid := f.fid
	f.mu.Unlock()
	if !stale {
		_ = f.fs.client(nil).Close(bg, fid)
	}
}

// dir is a directory open on a file server. The server keeps the
// position of its entry stream; the kernel keeps the last batch, so that
// entries that did not fit a program's buffer are not lost, and maps the
// program's positions (d_off) onto the stream.
type dir struct {
	*file

	dmu     sync.Mutex
	batch   []kfile.Dirent
	batchAt int64 // position of batch[0]
	next    int64 // position after the last entry the server gave
	end     bool
}

func (d *dir) Readdir(c kfile.Caller, pos int64) ([]kfile.Dirent, errno.Errno) {
	d.dmu.Lock()
	defer d.dmu.Unlock()
	if ents, ok := d.from(pos); ok {
		return ents, 0
	}
	if d.end && pos == d.next {
		return nil, 0
	}
	// Read on from where the server is, or, for a position elsewhere
	// (rewinddir, seekdir), from the first entry until the batch holds it.
	if e := d.fetch(c, pos == 0 || pos != d.next); e != 0 {
		return nil, e
	}
	for batches := 0; ; batches++ {
		if ents, ok := d.from(pos); ok {
			return ents, 0
		}
		if d.end || len(d.batch) == 0 {
			return nil, 0
		}
		if batches == maxSeekBatches {
			// A stream that neither reaches pos nor ends: a server that
			// does not number its entries as the protocol says.
			return nil, errno.EIO
		}
		if e := d.fetch(c, false); e != 0 {
			return nil, e
		}
	}
}

// maxSeekBatches bounds the batches one readdir reads to find a
// position: more than a directory of a million entries needs.
const maxSeekBatches = 1 << 14

// from returns the batch's entries from position pos on.
func (d *dir) from(pos int64) ([]kfile.Dirent, bool) {
	at := d.batchAt
	for i := range d.batch {
		if at == pos {
			return d.batch[i:], true
		}
		at = d.batch[i].Next
	}
	return nil, false
}

// fetch reads the next batch from the server (from the first entry if
// restart).
func (d *dir) fetch(c kfile.Caller, restart bool) errno.Errno {
	fid, e := d.id(c)
	if e != 0 {
		return e
	}
	rep, err := d.fs.client(c).Getdents(bg, fileproto.GetdentsRequest{Fid: fid, Restart: restart})
	if err != nil {
		return rpcErrno(err)
	}
	if restart {
		d.next = 0
	}
	d.batchAt = d.next
	d.batch = d.batch[:0]
	for _, ent := range rep.Entries {
		d.batch = append(d.batch, kfile.Dirent{Ino: ent.Ino, Next: ent.Off, Type: ent.Type, Name: ent.Name})
		d.next = ent.Off
	}
	d.end = rep.End
	return 0
}
