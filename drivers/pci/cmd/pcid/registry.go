package main

import (
	"fmt"
	"sync"
	"syscall"

	"valence.dev/drivers/lib/devreg"
	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
)

// Badges of the capabilities on pcid's endpoint. The endpoint itself is
// never handed out: every capability pcid gives away is badged, so that
// nobody can mint a badge of their choice from it (a capability's badge
// can only be set while it has none).
const (
	// publicBadge is the badge of the capability given to the parent
	// (and by it to lspci and other clients): Lookup and List only.
	publicBadge = 1
	// firstDriverBadge is the first of the badges given to drivers, one
	// per driver started, never reused.
	firstDriverBadge = 2
)

// Limits on what a driver may register. Names are what clients look up
// ("nvme0"), kinds what they are ("block", "nic").
const (
	maxName = 64
	maxKind = 32
)

// Rights a registered capability must carry for pcid to hand out copies
// (Dup, then send), and the rights of the copies. Copies have no
// Duplicate right: with it a client could mint badges on the driver's
// endpoint if the driver's capability had none.
const (
	registerRights = ipc.RightWrite | ipc.RightGrant | ipc.RightDuplicate
	lookupRights   = ipc.RightWrite | ipc.RightGrant
)

// Handles is the part of the kernel the registry needs; tests fake it.
type Handles interface {
	Dup(h ipc.Handle, rights ipc.Rights, badge uint64) (ipc.Handle, error)
	Close(h ipc.Handle) error
	Info(h ipc.Handle) (ipc.HandleInfo, error)
}

// entry is one function pcid found, and its driver.
type entry struct {
	fn         devreg.Function // what List reports
	badge      uint64          // the running driver's badge, 0 if none
	registered bool            // the driver has registered (once only)
	server     ipc.Handle      // what it registered, 0 if nothing
	kind       string
}

// Registry is pcid's bookkeeping: every function, the state of its
// driver, and what each driver registered. All methods may be called from
// several goroutines.
//
// Invariants: a badge names at most one entry, and only while its driver
// is starting or running; a name names at most one entry, which holds
// its server capability; an entry's server is closed exactly once, when
// the driver exits.
type Registry struct {
	h   Handles
	log func(format string, args ...any)

	mu        sync.Mutex
	entries   []*entry
	byBadge   map[uint64]*entry
	byName    map[string]*entry
	nextBadge uint64
	lookups   uint64 // badges minted for clients of drivers
}

// clientBadgeBase starts the badges pcid mints on drivers' capabilities
// for their clients (a different space from the badges on pcid's own
// endpoint).
const clientBadgeBase = 1 << 32

// NewRegistry returns the registry of fns (in the order List reports
// them), each in state "no driver" unless its State says otherwise.
func NewRegistry(h Handles, fns []devreg.Function, log func(format string, args ...any)) *Registry {
	r := &Registry{h: h, log: log, byBadge: map[uint64]*entry{}, byName: map[string]*entry{},
		nextBadge: firstDriverBadge}
	for _, f := range fns {
		if f.State == "" {
			f.State = "no driver"
		}
		r.entries = append(r.entries, &entry{fn: f})
	}
	return r
}

// Starting marks function i's driver as being started and returns the
// badge to give it.
func (r *Registry) Starting(i int) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.entries[i]
	r.dropLocked(e)
	b := r.nextBadge
	r.nextBadge++
	e.badge, e.registered = b, false
	e.fn.State, e.fn.PID = "starting", 0
	r.byBadge[b] = e
	return b
}

// Started records the pid of function i's driver.
func (r *Registry) Started(i int, pid int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries[i].fn.PID = int32(pid)
}

// Failed marks function i's driver as failed to start.
func (r *Registry) Failed(i int, why string) {
	r.end(i, "failed: "+why)
}

// Exited marks function i's driver as ended (how: "exit status 1") and
// drops what it registered.
func (r *Registry) Exited(i int, how string) {
	r.end(i, "exited: "+how)
}

func (r *Registry) end(i int, state string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.entries[i]
	r.dropLocked(e)
	e.fn.State, e.fn.PID = state, 0
}

// dropLocked forgets e's badge and registration.
func (r *Registry) dropLocked(e *entry) {
	if e.badge != 0 {
		delete(r.byBadge, e.badge)
		e.badge = 0
	}
	if e.server != 0 {
		_ = r.h.Close(e.server)
		e.server = 0
		delete(r.byName, e.fn.Name)
	}
	e.fn.Name, e.kind = "", ""
}

// Register serves devreg.Register for the caller holding badge. On
// success the registry owns req.Server; on error the caller (the
// transport) closes it.
func (r *Registry) Register(badge uint64, req devreg.RegisterRequest) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.byBadge[badge]
	if e == nil || e.registered {
		return devreg.ErrNotDriver
	}
	if err := checkName("name", req.Name, maxName); err != nil {
		return err
	}
	if err := checkName("kind", req.Kind, maxKind); err != nil {
		return err
	}
	if other := r.byName[req.Name]; other != nil {
		return &rpc.Error{Code: int32(syscall.EEXIST),
			Msg: fmt.Sprintf("devreg: %q is registered by %s (%s)", req.Name, other.fn.Driver, other.fn.Addr)}
	}
	if req.Server == 0 {
		return invalid("no server capability")
	}
	info, err := r.h.Info(req.Server)
	if err != nil {
		return invalid("server capability: " + err.Error())
	}
	if info.Type != ipc.TypeEndpoint || info.Rights&registerRights != registerRights {
		return invalid(fmt.Sprintf("server capability of type %d with rights %#x: want an endpoint with write, grant and duplicate",
			info.Type, uint32(info.Rights)))
	}
	e.registered, e.server, e.kind = true, req.Server, req.Kind
	e.fn.Name, e.fn.State = req.Name, "running"
	r.byName[req.Name] = e
	r.log("%s (%s) registered %s (%s)", e.fn.Driver, e.fn.Addr, req.Name, req.Kind)
	return nil
}

// Lookup serves devreg.Lookup: a new capability on the named driver's
// endpoint, which the reply moves to the caller.
func (r *Registry) Lookup(name string) (devreg.LookupReply, error) {
	if len(name) > maxName {
		return devreg.LookupReply{}, devreg.ErrNotFound
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.byName[name]
	if e == nil {
		return devreg.LookupReply{}, devreg.ErrNotFound
	}
	// Each lookup gets a badge of its own, so that the driver can tell
	// its clients apart (the block protocol keeps each one's buffers
	// apart by badge). A driver that registered a badged capability
	// keeps its badge: it cannot be minted again.
	r.lookups++
	h, err := r.h.Dup(e.server, lookupRights, clientBadgeBase+r.lookups)
	if err != nil {
		h, err = r.h.Dup(e.server, lookupRights, 0)
	}
	if err != nil {
		return devreg.LookupReply{}, fmt.Errorf("devreg: copying %s's capability: %w", name, err)
	}
	return devreg.LookupReply{Kind: e.kind, Server: h}, nil
}

// List serves devreg.List.
func (r *Registry) List() devreg.ListReply {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]devreg.Function, len(r.entries))
	for i, e := range r.entries {
		out[i] = e.fn
	}
	return devreg.ListReply{Functions: out}
}

// Owner returns the driver and address of the function badge was given
// to, for logging.
func (r *Registry) Owner(badge uint64) (driver, addr string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.byBadge[badge]; e != nil {
		return e.fn.Driver, e.fn.Addr, true
	}
	return "", "", false
}

// checkName accepts 1 to max bytes of letters, digits, '.', '-' and '_'.
func checkName(what, s string, max int) error {
	if s == "" || len(s) > max {
		return invalid(fmt.Sprintf("%s of %d bytes: want 1 to %d", what, len(s), max))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return invalid(fmt.Sprintf("%s %q: only letters, digits, '.', '-' and '_'", what, s))
		}
	}
	return nil
}

func invalid(msg string) error {
	return &rpc.Error{Code: int32(syscall.EINVAL), Msg: "devreg: " + msg}
}
