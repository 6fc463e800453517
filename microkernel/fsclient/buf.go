package fsclient

import (
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
	"valence.dev/servers/fs/fileproto"
)

// Bulk data to and from a file server goes through shared buffers
// (the protocol's Attach): memory the server allocates and maps, and the
// kernel reaches through the direct map, so a 1 MiB read is one call and
// one copy rather than 342 messages. Each mount keeps up to
// kernelBuffers of them; a transfer that finds none free (more transfers
// at once than buffers) or a server that gives none goes inline.

const (
	kernelBuffers   = 4       // per mount, at most fileproto.MaxBuffers
	kernelBufferLen = 1 << 20 // bytes each: one read(2) of maxIO
)

// sharedBuf is one attached buffer.
type sharedBuf struct {
	*Shared
	id  uint32
	gen uint64 // the server generation it belongs to
}

// getBuf returns a free buffer of the mount's current server, attaching
// one if there are fewer than kernelBuffers; nil: go inline.
func (m *mount) getBuf(c kfile.Caller) *sharedBuf {
	_, _, gen := m.current()
	m.bufMu.Lock()
	for len(m.free) > 0 {
		b := m.free[len(m.free)-1]
		m.free = m.free[:len(m.free)-1]
		if b.gen == gen {
			m.bufMu.Unlock()
			return b
		}
		m.nbufs--
		b.Release() // the server that gave it is gone
	}
	if m.nbufs >= kernelBuffers || m.noBufs == gen {
		m.bufMu.Unlock()
		return nil
	}
	m.nbufs++
	m.bufMu.Unlock()
	b, e := m.attach(c, gen)
	if e != 0 {
		m.bufMu.Lock()
		m.nbufs--
		m.noBufs = gen // this server gives none: do not ask again
		m.bufMu.Unlock()
		return nil
	}
	return b
}

// putBuf gives a buffer back for the next transfer.
func (m *mount) putBuf(b *sharedBuf) {
	if b == nil {
		return
	}
	ep, _, gen := m.current()
	m.bufMu.Lock()
	if b.gen != gen || ep.Dead() {
		m.nbufs--
		m.bufMu.Unlock()
		b.Release()
		return
	}
	m.free = append(m.free, b)
	m.bufMu.Unlock()
}

// serverGone lets go of the free buffers of a server that died: the
// kernel's references would otherwise keep its memory (charged to it)
// until the mount is next used with a new server.
func (m *mount) serverGone() {
	m.bufMu.Lock()
	free := m.free
	m.free = nil
	m.nbufs -= len(free)
	m.bufMu.Unlock()
	for _, b := range free {
		b.Release()
	}
}

// attach asks the server for a buffer and takes hold of its memory.
func (m *mount) attach(c kfile.Caller, gen uint64) (*sharedBuf, errno.Errno) {
	var tr Handles
	cl := fileproto.Client{T: kernelTransport{m: m, t: c, keep: &tr}}
	rep, err := cl.Attach(bg, kernelBufferLen)
	if tr != nil {
		defer tr.Drop() // the kernel keeps a mapping reference, not the handle
	}
	if err != nil {
		return nil, rpcErrno(err)
	}
	if rep.Size < kernelBufferLen {
		return nil, errno.EIO
	}
	sh, e := MapShared(tr, rep.Mem, kernelBufferLen)
	if e != 0 {
		return nil, e
	}
	return &sharedBuf{Shared: sh, id: rep.ID, gen: gen}, 0
}
