package fsclient

import (
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/mm"
	"valence.dev/microkernel/obj"
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
	id      uint32
	size    uint64
	frames  []uint64
	release func() // drops the kernel's mapping reference on the memory
	gen     uint64 // the server generation it belongs to
}

// copyOut copies the buffer's bytes [off, off+len(dst)) to dst.
func (b *sharedBuf) copyOut(off uint64, dst []byte) {
	for done := 0; done < len(dst); {
		o := off + uint64(done)
		page, in := o/mm.PageSize, o%mm.PageSize
		n := copy(dst[done:], mm.PhysBytes(b.frames[page]+in, mm.PageSize-in))
		done += n
	}
}

// copyIn copies src into the buffer at off.
func (b *sharedBuf) copyIn(off uint64, src []byte) {
	for done := 0; done < len(src); {
		o := off + uint64(done)
		page, in := o/mm.PageSize, o%mm.PageSize
		n := copy(mm.PhysBytes(b.frames[page]+in, mm.PageSize-in), src[done:])
		done += n
	}
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
		b.release() // the server that gave it is gone
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
		b.release()
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
		b.release()
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
	if tr == nil || rep.Size < kernelBufferLen {
		return nil, errno.EIO
	}
	o, found := tr.Object(rep.Mem)
	if !found {
		return nil, errno.EIO
	}
	mem, isMem := o.(*obj.Memory)
	if !isMem {
		return nil, errno.EIO
	}
	frames, release, live := mem.Frames()
	if !live || uint64(len(frames))*mm.PageSize < kernelBufferLen {
		if live {
			release()
		}
		return nil, errno.EIO
	}
	return &sharedBuf{id: rep.ID, size: kernelBufferLen, frames: frames, release: release, gen: gen}, 0
}
