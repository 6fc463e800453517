package proc

import (
	"sync"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/vfs"
)

// A mountNS is a mount namespace: a mount table shared by the processes that have it, as
// Linux's mount namespace is: fork, vfork and spawn give the child its
// parent's namespace, so a mount made by one process (mount(8) run from
// a shell, bootstrap mounting the root disk before init) is seen by all
// of them. unshare(CLONE_NEWNS) and clone with CLONE_NEWNS give a
// process a copy of its own, which it then changes alone (pcid does so,
// to keep the initfs as its root whatever is mounted over "/").
//
// The table itself is immutable (vfs.Table): a change builds a new one
// and swaps it in under mu, so a path being resolved keeps the table it
// started with and never sees half a change.
type mountNS struct {
	mu sync.Mutex
	t  *vfs.Table
}

func newMountNS(t *vfs.Table) *mountNS { return &mountNS{t: t} }

// table returns the current mount table (the initial one for a process
// that has ended and given its namespace up).
func (n *mountNS) table() *vfs.Table {
	if n == nil {
		return initialNS()
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.t
}

// change replaces the table with what f makes of it; f runs under the
// namespace's lock, so concurrent changes do not lose each other. f must
// not block.
func (n *mountNS) change(f func(t *vfs.Table) (*vfs.Table, errno.Errno)) errno.Errno {
	n.mu.Lock()
	defer n.mu.Unlock()
	t, e := f(n.t)
	if e != 0 {
		return e
	}
	n.t = t
	return 0
}

// copy returns a new namespace with the same mounts.
func (n *mountNS) copy() *mountNS { return newMountNS(n.table()) }

// namespace returns p's namespace.
func (p *Process) namespace() *mountNS {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ns
}

// unshareFlags are the unshare(2) flags Valence accepts. CLONE_FS and
// CLONE_FILES ask for a private working directory and descriptor table,
// which every process already has (threads share them, processes never
// do), so they change nothing; CLONE_NEWNS copies the mount namespace.
// The other namespaces (user, pid, network, uts, ipc, cgroup, time) do
// not exist: EINVAL, as a Linux built without them answers.
const unshareFlags = linux.CLONE_FS | linux.CLONE_FILES | linux.CLONE_NEWNS

// sysUnshare implements unshare(2).
func sysUnshare(c *call) result {
	flags := c.arg(0)
	if flags&^unshareFlags != 0 {
		return fail(errno.EINVAL)
	}
	if flags&linux.CLONE_NEWNS != 0 {
		c.p.unshareNS()
	}
	return ok0()
}

// unshareNS gives p a private copy of its namespace.
func (p *Process) unshareNS() {
	p.mu.Lock()
	ns := p.ns
	p.mu.Unlock()
	cp := ns.copy()
	p.mu.Lock()
	p.ns = cp
	p.mu.Unlock()
}

// allNamespaces returns the distinct namespaces of the live processes.
func allNamespaces() []*mountNS {
	tableMu.Lock()
	ps := make([]*Process, 0, len(procs))
	for _, p := range procs {
		if p != nil { // a thread's reserved number
			ps = append(ps, p)
		}
	}
	tableMu.Unlock()
	seen := map[*mountNS]bool{}
	var out []*mountNS
	for _, p := range ps {
		if ns := p.namespace(); ns != nil && !seen[ns] { // nil: ended
			seen[ns] = true
			out = append(out, ns)
		}
	}
	return out
}

// addMount adds m to ns (ENOSPC at vfs's limit of mounts). A mount at
// the same target is replaced, and given back to the mounter if it was
// the last of a server the mounter started.
func addMount(c *call, ns *mountNS, m *vfs.Mount) errno.Errno {
	var old *vfs.Mount
	e := ns.change(func(t *vfs.Table) (*vfs.Table, errno.Errno) {
		old, _ = t.Lookup(m.Target)
		t, added := t.With(m)
		if !added {
			return nil, errno.ENOSPC
		}
		return t, 0
	})
	if e == 0 && old != nil {
		release(c, old)
	}
	return e
}

// dropNamespace lets go of an ended process's namespace: the mounts the
// mounter started that no namespace has any more go back to it.
func (p *Process) dropNamespace() {
	p.mu.Lock()
	ns := p.ns
	p.ns = nil
	p.mu.Unlock()
	if ns == nil {
		return
	}
	for _, m := range ns.table().Mounts() {
		release(nil, m)
	}
}
