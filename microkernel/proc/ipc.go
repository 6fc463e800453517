package proc

import (
	"encoding/binary"
	"errors"

	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/caps"
	"valence.dev/ipc"
	"valence.dev/microkernel/obj"
)

// Capabilities and IPC for user processes. Every process has a handle
// table in the one capability system; handles name endpoints,
// notifications, memory objects and processes. The native calls here
// decode and check everything (handles, rights, user memory) before they
// change anything, as seL4 does.

// capsys is every handle table and the derivation tree between them.
var capsys = caps.NewSystem()

// maxHandles is a process's handle table limit.
const maxHandles = 4096

// capErrno maps capability and object errors to the errno user space sees.
func capErrno(err error) errno.Errno {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, caps.ErrStale):
		return errno.ESTALE
	case errors.Is(err, caps.ErrBadHandle), errors.Is(err, caps.ErrDead):
		return errno.EBADF
	case errors.Is(err, caps.ErrRights):
		return errno.EACCES
	case errors.Is(err, caps.ErrAttenuate), errors.Is(err, caps.ErrDuplicate):
		return errno.EINVAL
	case errors.Is(err, caps.ErrFull):
		return errno.ENOSPC
	case errors.Is(err, obj.ErrPeerDied):
		return errno.EOWNERDEAD
	case errors.Is(err, obj.ErrInterrupted):
		return errno.EINTR
	case errors.Is(err, obj.ErrNoCall):
		return errno.EINVAL
	case errors.Is(err, obj.ErrWouldBlock):
		return errno.EAGAIN
	case errors.Is(err, obj.ErrNoMemory):
		return errno.ENOMEM
	}
	return toErrno(err)
}

func (p *Process) table() *caps.Table {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.handles
}

// objectType is the ipc.Type* of a kernel object.
func objectType(o caps.Object) uint32 {
	switch o.(type) {
	case *obj.Endpoint:
		return ipc.TypeEndpoint
	case *obj.Notification:
		return ipc.TypeNotification
	case *obj.Memory:
		return ipc.TypeMemory
	case *Process:
		return ipc.TypeProcess
	case *obj.Device:
		return ipc.TypeDevice
	case *obj.IRQ:
		return ipc.TypeIRQ
	case *obj.Ports:
		return ipc.TypePorts
	}
	return 0
}

// lookup resolves handle h (argument i) to an object of type T with the
// rights need.
func lookup[T any](c *call, i int, need ipc.Rights) (T, caps.Cap, errno.Errno) {
	var zero T
	cp, err := c.p.table().Lookup(ipc.Handle(c.arg(i)), need)
	if err != nil {
		return zero, cp, capErrno(err)
	}
	o, ok := cp.Object.(T)
	if !ok {
		return zero, cp, errno.EINVAL // a handle of the wrong type
	}
	return o, cp, 0
}

// orphaned cleans up objects that lost their last capability: a memory
// object is freed once it is also unmapped everywhere, an endpoint dies and
// leaves its owner's list (endpointClosed). The rest (notifications,
// processes) are only referenced through capabilities and the garbage
// collector takes them.
func orphaned(objs []caps.Object) {
	for _, o := range objs {
		switch o := o.(type) {
		case *obj.Memory:
			o.CapsGone()
		case *obj.Endpoint:
			endpointClosed(o)
		case *obj.IRQ:
			o.CapsGone()
		case *obj.Device:
			o.CapsGone()
		}
	}
}

// sysHandleDup implements valence_handle_dup(h, rights, badge): a copy of
// h in the same table with equal or fewer rights (and a badge, if h has
// none yet).
func sysHandleDup(c *call) result {
	h, err := c.p.table().Duplicate(ipc.Handle(c.arg(0)), ipc.Rights(c.arg(1)), c.arg(2))
	if err != nil {
		return fail(capErrno(err))
	}
	return ok(uint64(h))
}

// sysHandleClose implements valence_handle_close(h).
func sysHandleClose(c *call) result {
	orphan, err := c.p.table().Close(ipc.Handle(c.arg(0)))
	if err != nil {
		return fail(capErrno(err))
	}
	if orphan != nil {
		orphaned([]caps.Object{orphan})
	}
	return ok0()
}

// sysHandleRevoke implements valence_handle_revoke(h): every capability
// derived from h, in any process, is removed; h stays.
func sysHandleRevoke(c *call) result {
	n, err := c.p.table().Revoke(ipc.Handle(c.arg(0)))
	if err != nil {
		return fail(capErrno(err))
	}
	return ok(uint64(n))
}

// sysHandleInfo implements valence_handle_info(h, *HandleInfo).
func sysHandleInfo(c *call) result {
	cp, err := c.p.table().Info(ipc.Handle(c.arg(0)))
	if err != nil {
		return fail(capErrno(err))
	}
	info := ipc.HandleInfo{Type: objectType(cp.Object), Rights: cp.Rights, Badge: cp.Badge}
	switch o := cp.Object.(type) {
	case *obj.Endpoint:
		info.Object, info.Gen = o.ID, o.Gen()
	case *obj.Notification:
		info.Object = o.ID
	case *obj.Memory:
		info.Object, info.Size = o.ID, o.Size
	case *Process:
		info.Object = uint64(o.PID)
	}
	var b [48]byte
	binary.LittleEndian.PutUint32(b[0:], info.Type)
	binary.LittleEndian.PutUint32(b[4:], uint32(info.Rights))
	binary.LittleEndian.PutUint64(b[8:], info.Badge)
	binary.LittleEndian.PutUint64(b[16:], info.Object)
	binary.LittleEndian.PutUint64(b[24:], info.Size)
	binary.LittleEndian.PutUint64(b[32:], info.Gen)
	return copyOutStruct(c, c.arg(1), b[:40])
}

// insert puts a new object's root capability in the caller's table.
func insert(c *call, o caps.Object, rights ipc.Rights) result {
	h, err := c.p.table().Insert(o, rights, 0)
	if err != nil {
		return fail(capErrno(err))
	}
	return ok(uint64(h))
}

// sysEndpointCreate implements valence_endpoint_create(): an endpoint the
// caller serves; it dies with the caller, or when its last capability is
// closed.
func sysEndpointCreate(c *call) result {
	if e := admitObject(endpointCost + handleCost); e != 0 {
		return fail(e)
	}
	ep := obj.NewEndpoint(c.p.PID)
	c.p.mu.Lock()
	if c.p.exiting {
		c.p.mu.Unlock()
		return fail(errno.EINTR)
	}
	c.p.endpoints = append(c.p.endpoints, ep)
	c.p.mu.Unlock()
	r := insert(c, ep, ipc.RightsAll)
	if r.err != 0 {
		endpointClosed(ep) // never had a capability
	}
	return r
}

// sysNotifyCreate implements valence_notify_create().
func sysNotifyCreate(c *call) result {
	if e := admitObject(handleCost); e != 0 {
		return fail(e)
	}
	return insert(c, obj.NewNotification(), ipc.RightsAll)
}

// sysNotifySignal implements valence_notify_signal(h, bits).
func sysNotifySignal(c *call) result {
	n, _, e := lookup[*obj.Notification](c, 0, ipc.RightSignal)
	if e != 0 {
		return fail(e)
	}
	n.Signal(c.arg(1))
	return ok0()
}

// sysNotifyWait implements valence_notify_wait(h, flags) -> bits.
func sysNotifyWait(c *call) result {
	n, _, e := lookup[*obj.Notification](c, 0, ipc.RightRead)
	if e != 0 {
		return fail(e)
	}
	if !c.t.CanBlock() {
		return fail(errno.EINTR)
	}
	bits, err := n.Wait(c.t.intr, c.arg(1)&1 != 0)
	if err != nil {
		return fail(capErrno(err))
	}
	return ok(bits)
}

// sysNotifyBind implements valence_notify_bind(notification, endpoint):
// the notification's bits arrive through the endpoint's receive.
func sysNotifyBind(c *call) result {
	n, _, e := lookup[*obj.Notification](c, 0, ipc.RightRead)
	if e != 0 {
		return fail(e)
	}
	ep, _, e := lookup[*obj.Endpoint](c, 1, ipc.RightManage)
	if e != 0 {
		return fail(e)
	}
	if err := ep.Bind(n); err != nil {
		return fail(capErrno(err))
	}
	return ok0()
}
