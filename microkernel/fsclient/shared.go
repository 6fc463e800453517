package fsclient

import (
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/ipc"
	"valence.dev/microkernel/mm"
	"valence.dev/microkernel/obj"
)

// Shared is a server's shared buffer as the kernel holds it: memory the
// server allocated and handed over in a reply (an Attach of the file or
// socket protocol), reached through the direct map. The kernel keeps a
// reference on the frames, not the handle, so the memory stays valid
// while the kernel copies, even if the server unmaps it or dies; Release
// lets go of it.
type Shared struct {
	size    uint64
	frames  []uint64
	release func()
}

// MapShared takes hold of the memory object h names among the reply's
// handles tr, which must have at least size bytes. A reply without it, or
// with something else there, is EIO: the server broke the protocol.
func MapShared(tr Handles, h ipc.Handle, size uint64) (*Shared, errno.Errno) {
	if tr == nil {
		return nil, errno.EIO
	}
	o, found := tr.Object(h)
	if !found {
		return nil, errno.EIO
	}
	mem, isMem := o.(*obj.Memory)
	if !isMem {
		return nil, errno.EIO
	}
	frames, release, live := mem.Frames()
	if !live || uint64(len(frames))*mm.PageSize < size {
		if live {
			release()
		}
		return nil, errno.EIO
	}
	return &Shared{size: size, frames: frames, release: release}, 0
}

// Size is the buffer's length in bytes.
func (s *Shared) Size() uint64 { return s.size }

// CopyOut copies the buffer's bytes [off, off+len(dst)) to dst; the
// caller keeps within Size.
func (s *Shared) CopyOut(off uint64, dst []byte) {
	for done := 0; done < len(dst); {
		o := off + uint64(done)
		page, in := o/mm.PageSize, o%mm.PageSize
		done += copy(dst[done:], mm.PhysBytes(s.frames[page]+in, mm.PageSize-in))
	}
}

// CopyIn copies src into the buffer at off; the caller keeps within Size.
func (s *Shared) CopyIn(off uint64, src []byte) {
	for done := 0; done < len(src); {
		o := off + uint64(done)
		page, in := o/mm.PageSize, o%mm.PageSize
		done += copy(mm.PhysBytes(s.frames[page]+in, mm.PageSize-in), src[done:])
	}
}

// Release drops the kernel's reference on the memory. Once only.
func (s *Shared) Release() { s.release() }
