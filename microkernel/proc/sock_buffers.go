package proc

import (
	"context"

	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/fsclient"
	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/sock"
	"valence.dev/servers/net/sockproto"
)

// netBuffers is the sock.Attacher for the network server conn: an Attach
// call whose reply's memory handle the kernel takes hold of (as the file
// client does for file servers), so socket data moves through netd's
// memory rather than in messages.
func netBuffers(conn fsclient.FS) sock.Attacher {
	return func(k kfile.Caller, size uint64) (sock.Buffer, errno.Errno) {
		var tr fsclient.Handles
		cl := sockproto.Client{T: deadIsOwnerDead{conn.Transport(k, &tr)}}
		rep, err := cl.Attach(context.Background(), size)
		if tr != nil {
			defer tr.Drop() // the kernel keeps a reference on the memory, not the handle
		}
		if err != nil {
			return nil, errno.EIO
		}
		if rep.Size < size {
			return nil, errno.EIO
		}
		sh, e := fsclient.MapShared(tr, rep.Mem, size)
		if e != 0 {
			return nil, e
		}
		return netBuffer{sh, rep.ID}, 0
	}
}

// netBuffer is one of netd's buffers.
type netBuffer struct {
	*fsclient.Shared
	id uint32
}

func (b netBuffer) ID() uint32 { return b.id }
