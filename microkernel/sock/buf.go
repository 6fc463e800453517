package sock

import (
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
	"valence.dev/servers/net/sockproto"
)

// Bulk data goes through shared buffers (the protocol's Attach): memory
// netd allocates and the kernel reaches directly, so a 64 KiB write is
// one call and one copy into netd's memory instead of 22 messages of
// sockproto.MaxInline bytes. Each Net keeps up to kernelBuffers; a call
// holds one only for the duration of one non-blocking request (never
// while it sleeps waiting for readiness), so a few serve every socket.
// A stream transfer that finds none free goes inline; a datagram longer
// than MaxInline waits for one, since it cannot be split.

const (
	kernelBuffers   = sockproto.MaxBuffers
	kernelBufferLen = 256 << 10 // netd's TCP buffers are 256 KiB: one call fills or drains one
)

// Buffer is one of the server's shared buffers as the kernel holds it.
type Buffer interface {
	// ID names the buffer in Send and Recv.
	ID() uint32
	// CopyIn copies src into the buffer at off; CopyOut copies out of
	// it. The caller stays within the buffer's size.
	CopyIn(off uint64, src []byte)
	CopyOut(off uint64, dst []byte)
	// Release lets go of the memory. The server's Detach is not called:
	// buffers live as long as the connection to the server.
	Release()
}

// Attacher asks the server, for caller c, for a shared buffer of size
// bytes. proc supplies it: the reply carries a memory handle, which only
// the kernel's handle machinery can turn into memory.
type Attacher func(c kfile.Caller, size uint64) (Buffer, errno.Errno)

// bufPool is a Net's shared buffers.
type bufPool struct {
	attach Attacher // nil: inline only
	tokens chan struct{}
	free   chan Buffer
	noBufs bool // the server gave none: do not ask again (guarded by Net.mu)
}

func newBufPool(attach Attacher) *bufPool {
	return &bufPool{attach: attach, tokens: make(chan struct{}, kernelBuffers), free: make(chan Buffer, kernelBuffers)}
}

// get returns a buffer; nil when the server gives none, or — unless wait
// — when every buffer is in use. A waiting get ends with EINTR when the
// caller is interrupted.
func (n *Net) getBuf(c kfile.Caller, wait bool) (Buffer, errno.Errno) {
	p := n.bufs
	n.mu.Lock()
	none := p.attach == nil || p.noBufs || n.dead
	n.mu.Unlock()
	if none {
		return nil, 0
	}
	select {
	case b := <-p.free:
		return b, 0
	default:
	}
	select {
	case p.tokens <- struct{}{}: // room for one more: attach it
		b, e := p.attach(c, kernelBufferLen)
		if e != 0 {
			<-p.tokens
			n.mu.Lock()
			p.noBufs = true
			n.mu.Unlock()
			return nil, 0
		}
		return b, 0
	default:
	}
	if !wait {
		return nil, 0
	}
	var intr <-chan struct{}
	if c != nil {
		if !c.CanBlock() {
			return nil, errno.EINTR
		}
		intr = c.Interrupted()
	}
	select {
	case b := <-p.free:
		return b, 0
	case <-intr:
		return nil, errno.EINTR
	case <-n.stopped:
		return nil, errno.ECONNRESET
	}
}

// putBuf gives a buffer back; after the server's death it is released.
func (n *Net) putBuf(b Buffer) {
	if b == nil {
		return
	}
	n.mu.Lock()
	dead := n.dead
	if !dead {
		n.bufs.free <- b // never blocks: at most kernelBuffers exist
	}
	n.mu.Unlock()
	if dead {
		b.Release()
	}
}

// releaseBufs lets go of the free buffers of a dead server (called once,
// by kill, after dead is set: putBuf releases the ones in use).
func (n *Net) releaseBufs() {
	for {
		select {
		case b := <-n.bufs.free:
			b.Release()
		default:
			return
		}
	}
}
