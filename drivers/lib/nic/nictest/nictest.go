// Package nictest is a fake of the OS calls the NIC protocol's server and
// client make (nic.Kernel), for hosted tests: one handle table shared by
// "client" and "driver" (as memtransport shares handle values), memory
// objects that are Go byte slices both sides see, and notifications with
// the kernel's semantics (bits accumulate until a Wait returns and clears
// them). It checks rights as the kernel does, and counts live handles so
// that tests can check nothing leaks.
package nictest

import (
	"fmt"
	"sync"
	"syscall"

	"valence.dev/drivers/lib/nic"
	"valence.dev/ipc"
)

// Kernel is a fake nic.Kernel. Its zero value is not usable; call New.
type Kernel struct {
	mu      sync.Mutex
	next    ipc.Handle
	handles map[ipc.Handle]*object
	mapped  int
}

type object struct {
	mem    []byte // a memory object, or
	n      *Notif // a notification
	rights ipc.Rights
}

// New returns an empty fake kernel.
func New() *Kernel { return &Kernel{next: 100, handles: map[ipc.Handle]*object{}} }

var _ nic.Kernel = (*Kernel)(nil)

func (k *Kernel) insert(o *object) ipc.Handle {
	k.next++
	k.handles[k.next] = o
	return k.next
}

// take removes h from the table, as moving or closing it does.
func (k *Kernel) take(h ipc.Handle) (*object, bool) {
	o, ok := k.handles[h]
	delete(k.handles, h)
	return o, ok
}

// Live returns the number of open handles and mappings.
func (k *Kernel) Live() (handles, mappings int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.handles), k.mapped
}

// NewShared implements nic.Kernel.
func (k *Kernel) NewShared(size uint64) ([]byte, ipc.Handle, func(), error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	mem := make([]byte, size)
	k.mapped++
	peer := k.insert(&object{mem: mem, rights: ipc.RightRead | ipc.RightWrite | ipc.RightMap | ipc.RightGrant})
	return mem, peer, k.unmapper(), nil
}

func (k *Kernel) unmapper() func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			k.mu.Lock()
			k.mapped--
			k.mu.Unlock()
		})
	}
}

// NewNotification implements nic.Kernel.
func (k *Kernel) NewNotification() (nic.Notification, ipc.Handle, error) {
	n := &Notif{}
	n.cond = sync.NewCond(&n.mu)
	k.mu.Lock()
	defer k.mu.Unlock()
	own := k.insert(&object{n: n, rights: ipc.RightsAll})
	peer := k.insert(&object{n: n, rights: ipc.RightSignal | ipc.RightGrant})
	return &handle{k: k, h: own, n: n, rights: ipc.RightsAll}, peer, nil
}

// NotificationHandle makes a notification handle with the given rights,
// to hand a server as a client would (possibly a bad one), and returns
// the notification behind it.
func (k *Kernel) NotificationHandle(rights ipc.Rights) (ipc.Handle, *Notif) {
	n := &Notif{}
	n.cond = sync.NewCond(&n.mu)
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.insert(&object{n: n, rights: rights}), n
}

// MemoryHandle makes a memory handle of size bytes (a wrong kind of
// handle to pass for a notification).
func (k *Kernel) MemoryHandle(size uint64) ipc.Handle {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.insert(&object{mem: make([]byte, size), rights: ipc.RightsAll})
}

// Adopt implements nic.Kernel.
func (k *Kernel) Adopt(h ipc.Handle) (nic.Notification, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	o, ok := k.handles[h]
	if !ok || o.n == nil || o.rights&ipc.RightSignal == 0 {
		if ok {
			delete(k.handles, h)
		}
		return nil, nic.ErrBadHandle
	}
	return &handle{k: k, h: h, n: o.n, rights: o.rights}, nil
}

// Map implements nic.Kernel.
func (k *Kernel) Map(h ipc.Handle) ([]byte, func(), error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	o, ok := k.handles[h]
	if !ok || o.mem == nil {
		return nil, nil, fmt.Errorf("nictest: handle %d is not memory: %w", h, syscall.EBADF)
	}
	if o.rights&(ipc.RightMap|ipc.RightWrite|ipc.RightRead) != ipc.RightMap|ipc.RightWrite|ipc.RightRead {
		return nil, nil, syscall.EACCES
	}
	k.mapped++
	unmap := k.unmapper()
	return o.mem, func() { unmap(); k.Close(h) }, nil
}

// Close implements nic.Kernel.
func (k *Kernel) Close(h ipc.Handle) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.take(h)
}

// Notif is a fake notification object.
type Notif struct {
	mu   sync.Mutex
	cond *sync.Cond
	bits uint64
}

// Signal ORs bits in.
func (n *Notif) Signal(bits uint64) {
	n.mu.Lock()
	n.bits |= bits
	n.mu.Unlock()
	n.cond.Broadcast()
}

// Wait blocks for bits and returns and clears them.
func (n *Notif) Wait() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	for n.bits == 0 {
		n.cond.Wait()
	}
	b := n.bits
	n.bits = 0
	return b
}

// Poll returns and clears the bits without waiting.
func (n *Notif) Poll() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	b := n.bits
	n.bits = 0
	return b
}

// handle is a notification capability in the fake table.
type handle struct {
	k      *Kernel
	h      ipc.Handle
	n      *Notif
	rights ipc.Rights
}

func (h *handle) Signal(bits uint64) error {
	if h.rights&ipc.RightSignal == 0 {
		return syscall.EACCES
	}
	h.n.Signal(bits)
	return nil
}

func (h *handle) Wait() (uint64, error) {
	if h.rights&ipc.RightRead == 0 {
		return 0, syscall.EACCES
	}
	return h.n.Wait(), nil
}

func (h *handle) Close() error {
	h.k.Close(h.h)
	return nil
}
