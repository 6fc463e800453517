package libos

import (
	"syscall"
	"unsafe"

	"valence.dev/ipc"
)

// NewEndpoint creates an endpoint the caller serves. It dies with the
// caller: clients then get EOWNERDEAD.
func NewEndpoint() (ipc.Handle, error) {
	r, _, e := syscall.RawSyscall(ipc.SysEndpointCreate, 0, 0, 0)
	return ipc.Handle(r), errOf("endpoint create", e)
}

// Call sends req on endpoint ep and blocks until the server replies into
// rep. The handles req lists move to the server.
func Call(ep ipc.Handle, req, rep *ipc.Message) error {
	_, _, e := syscall.Syscall(ipc.SysCall, uintptr(ep), uintptr(unsafe.Pointer(req)), uintptr(unsafe.Pointer(rep)))
	return errOf("call", e)
}

// Recv blocks until a call (or bound notification bits) arrives on ep and
// returns the token to reply with (0 for notification bits, which arrive
// in m.Label with m.Flags = ipc.MsgNotification).
func Recv(ep ipc.Handle, m *ipc.Message) (uint64, error) {
	r, _, e := syscall.Syscall(ipc.SysRecv, uintptr(ep), uintptr(unsafe.Pointer(m)), 0)
	return uint64(r), errOf("recv", e)
}

// Reply answers the call identified by token.
func Reply(ep ipc.Handle, token uint64, m *ipc.Message) error {
	_, _, e := syscall.RawSyscall(ipc.SysReply, uintptr(ep), uintptr(token), uintptr(unsafe.Pointer(m)))
	return errOf("reply", e)
}

// ReplyRecv answers token (if non-zero) with rep and waits for the next
// call into m, in one system call.
func ReplyRecv(ep ipc.Handle, token uint64, rep, m *ipc.Message) (uint64, error) {
	r, _, e := syscall.Syscall6(ipc.SysReplyRecv, uintptr(ep), uintptr(token), uintptr(unsafe.Pointer(rep)), uintptr(unsafe.Pointer(m)), 0, 0)
	return uint64(r), errOf("reply-recv", e)
}

// NewNotification creates a notification.
func NewNotification() (ipc.Handle, error) {
	r, _, e := syscall.RawSyscall(ipc.SysNotifyCreate, 0, 0, 0)
	return ipc.Handle(r), errOf("notify create", e)
}

// NotifySignal ORs bits into notification n.
func NotifySignal(n ipc.Handle, bits uint64) error {
	_, _, e := syscall.RawSyscall(ipc.SysNotifySignal, uintptr(n), uintptr(bits), 0)
	return errOf("notify signal", e)
}

// NotifyWait blocks until notification n has bits, and returns and clears them.
func NotifyWait(n ipc.Handle) (uint64, error) {
	r, _, e := syscall.Syscall(ipc.SysNotifyWait, uintptr(n), 0, 0)
	return uint64(r), errOf("notify wait", e)
}

// NotifyPoll returns and clears notification n's bits without blocking
// (0 if none are set).
func NotifyPoll(n ipc.Handle) (uint64, error) {
	r, _, e := syscall.RawSyscall(ipc.SysNotifyWait, uintptr(n), 1, 0)
	if e == syscall.EAGAIN {
		return 0, nil
	}
	return uint64(r), errOf("notify poll", e)
}

// NotifyBind makes notification n's bits arrive through endpoint ep's Recv.
func NotifyBind(n, ep ipc.Handle) error {
	_, _, e := syscall.RawSyscall(ipc.SysNotifyBind, uintptr(n), uintptr(ep), 0)
	return errOf("notify bind", e)
}

// NewMemory creates a zeroed memory object of size bytes.
func NewMemory(size uint64) (ipc.Handle, error) {
	r, _, e := syscall.RawSyscall(ipc.SysMemCreate, uintptr(size), 0, 0)
	return ipc.Handle(r), errOf("mem create", e)
}

// Map maps memory object h with protection prot (syscall.PROT_*) and
// returns it as a byte slice. Unmap it with syscall.Munmap.
func Map(h ipc.Handle, prot int) ([]byte, error) {
	info, err := Info(h)
	if err != nil {
		return nil, err
	}
	r, _, e := syscall.RawSyscall6(ipc.SysMemMap, uintptr(h), 0, uintptr(prot), 0, 0, 0)
	if e != 0 {
		return nil, errOf("mem map", e)
	}
	return unsafe.Slice((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&r))), info.Size), nil
}
