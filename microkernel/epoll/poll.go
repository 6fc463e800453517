package epoll

import (
	"time"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
)

// Poll waits, as poll(2) and select(2) do, until one of files is ready
// for what events[i] asks (EPOLLERR and EPOLLHUP always count), the
// timeout passes (negative: never), or the caller is interrupted, and
// returns each file's ready events (0 for those not ready). It is an
// epoll instance made for the one call: level-triggered interests over
// the files, so the waiting is epoll's. It takes no references of its
// own beyond the call: the caller's stay the caller's.
func Poll(c kfile.Caller, files []*kfile.OpenFile, events []uint32, timeout time.Duration) ([]uint32, errno.Errno) {
	e := New()
	defer e.Release()
	for i, of := range files {
		if of == nil {
			continue
		}
		// Ctl takes over a reference, which Release gives back.
		if r := e.Ctl(linux.EPOLL_CTL_ADD, int32(i), of.Retain(), events[i], uint64(i)); r != 0 {
			return nil, r
		}
	}
	evs, r := e.Wait(c, max(len(files), 1), timeout)
	if r != 0 {
		return nil, r
	}
	out := make([]uint32, len(files))
	for _, ev := range evs {
		if i := Data(&ev); i < uint64(len(out)) {
			out[i] = ev.Events
		}
	}
	return out, 0
}
