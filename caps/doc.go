// Package caps keeps the capabilities of every Valence process: one handle
// table per process, the rights and badge of each capability, and the
// derivation tree that lets a holder revoke everything made from what it
// holds. It is pure Go with no unsafe and no kernel imports, so the whole
// package is tested, fuzzed and benchmarked on the host; the kernel embeds
// one System and calls it from every system call that takes a handle.
//
// # Model
//
// A capability is an unforgeable reference to a kernel object together
// with the rights it confers (ipc.RightRead ... ipc.RightManage) and a
// badge, a word the kernel hands to an endpoint's receiver so a server can
// tell its clients apart. caps never looks inside an object: it stores the
// Object value and compares objects with ==, so objects are normally
// pointers to kernel structures. What the rights and the badge mean for a
// given object type is the kernel's business; caps only guarantees that
// they are only ever narrowed, and that a badge is set once.
//
// A process names its capabilities by ipc.Handle values. The low 32 bits of
// a handle are a 1-based slot index in the process's Table, the high 32
// bits the slot's generation. The generation goes up each time the slot is
// freed, and a slot whose generation would wrap is retired for good, so a
// handle value, once closed, never names anything again: using it gives
// ErrBadHandle (the slot is free) or ErrStale (the slot now holds a newer
// capability). Zero is never a handle, since slot indices start at 1.
// Lookups index the slot array directly: O(1).
//
// # Derivation
//
// The kernel makes root capabilities with Table.Insert when it creates an
// object. Every other capability is derived from an existing one, which
// becomes its parent: Duplicate makes a copy in the same table (it needs
// ipc.RightDuplicate), Grant makes one in another table as a handle travels
// in a message (it needs ipc.RightGrant). A derived capability names the
// same object, has a subset of its parent's rights, and keeps its parent's
// badge; the one exception is minting, as in seL4: a capability whose badge
// is 0 may give its child any badge. Move is not a derivation: the
// capability itself changes tables and keeps its place in the tree.
// MoveAll and GrantAll do the same for several handles at once, all or
// none: the kernel moves a message's handles with MoveAll, so that
// another thread closing one of them cannot leave the message half sent.
//
// Revoke, which needs ipc.RightManage, removes every descendant of a
// capability in every table and keeps the capability itself. So that
// closing an intermediate capability cannot let its descendants escape a
// later revoke, Close (and Destroy, which closes a whole table) re-parents
// the closed capability's children to its own parent, or makes them roots.
// The tree is kept explicitly (parent pointer, doubly linked child list),
// rather than as seL4's depth-ordered list of capabilities, because Valence
// closes intermediate capabilities often and re-parenting is then a walk
// over the children only. Each object also has a list of all its
// capabilities, so Holders is O(1) and RevokeObject (the kernel tearing an
// object down) is linear in the number of holders.
//
// Since derivation copies the object, every tree of the forest names a
// single object, and Revoke, which keeps the revoked capability, never
// removes an object's last capability. Close, Destroy and RevokeObject can;
// Close and Destroy report the objects so orphaned, for the kernel to free.
//
// # Decode, then invoke
//
// Every mutating method follows seL4's split (cnode.c): a decode step
// resolves the handles, checks the rights, the requested attenuation, the
// badge and the destination's room, and changes nothing; only then does an
// invoke step act, and it has no failure paths. A call therefore either
// fails with nothing changed or succeeds completely; no error can leave a
// half-made capability or a half-revoked subtree. Checks happen in a fixed
// order, which the tests pin down: a destination table of another System
// (ErrForeign), a destroyed table (ErrDead), the handle (ErrBadHandle,
// ErrStale) or Insert's object (ErrBadObject), the rights the operation
// needs (ErrRights), the requested rights and badge (ErrAttenuate), and
// last the destination's room (ErrFull). A batch operation is a single
// decode step over all its handles, each checked in turn (MoveAll also
// refuses a capability named twice, ErrDuplicate), with the room for the
// whole batch last, followed by a single invoke step.
//
// # Invariants
//
// System.Check verifies all of these; the tests and the fuzzer run it after
// every operation.
//
//  1. Every live capability is in exactly one slot of one live table, and
//     the handle made of that slot and its generation resolves to it.
//  2. A table's free slots hold nothing and are each on its free list
//     exactly once; retired slots hold nothing and are on no list. A table's
//     live count is the number of slots holding a capability, and never
//     exceeds its limit. A destroyed table holds nothing.
//  3. The derivation tree is a forest: a node is its parent's child and
//     vice versa, sibling links are consistent, and there are no cycles
//     (every node is reachable from exactly one root).
//  4. A child names its parent's object, its rights are a subset of its
//     parent's, and its badge equals its parent's unless the parent's badge
//     is 0. Rights and badges are immutable once a capability exists, so
//     rights never grow and a minted badge never changes.
//  5. Each object's holder list contains exactly the live capabilities to
//     it, and its count is their number; objects with no capability have
//     no entry. Holders reports that count.
//  6. A removed capability is unreachable: no slot, child list or holder
//     list refers to it.
//
// # Locking
//
// System.mu guards everything: every table, every node and the holder
// lists. Each exported method takes it once, so all methods are safe to
// call from many goroutines (the kernel's threads), and each call is atomic
// with respect to the others. Nothing blocks while holding it, and caps
// calls out to no other code, so it nests inside any kernel lock.
//
// # Errors
//
// Methods return an *OpError wrapping one of the sentinel errors; test them
// with errors.Is. The kernel maps them to the errno values of ipc's native
// ABI: ErrBadHandle to EBADF, ErrStale to ESTALE, ErrRights to EACCES,
// ErrAttenuate, ErrDuplicate and ErrBadObject to EINVAL, ErrFull to ENOSPC. ErrDead means
// the table was destroyed, which a thread of a dying process may still see;
// ErrForeign means the kernel passed a table of another System.
package caps
