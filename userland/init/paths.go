package main

import (
	"path"
	"sync"
)

// bootDir is where the initfs stays reachable once the root disk is
// mounted at "/".
const bootDir = "/boot"

// systemPath is where to spawn a system program (a service) from: the
// initfs's copy, which is at bootDir once the disk is mounted. Services
// come from the boot image as the kernel does, not from the disk, whose
// copies may be stale, and which a restarted fsd could not serve anyway
// (spawn resolves the path in init's namespace, whose "/" is then the
// dead fsd's).
func systemPath(p string, mounted, bootBound bool) string {
	if mounted && bootBound {
		return path.Join(bootDir, p)
	}
	return p
}

// namespace is what init knows of its own namespace. mu also serializes
// every spawn (which borrows descriptors 1 and 2, tap.go) with the
// mounting of the root, so that a program's path is chosen and resolved
// in one and the same namespace while services start in parallel.
type namespace struct {
	mu        sync.Mutex
	mounted   bool   // the root disk is at "/"
	bootBound bool   // the initfs is at bootDir
	disk      string // the root disk's pcid name, once mounted
}

// lock takes mu and returns its unlock.
func (n *namespace) lock() func() {
	n.mu.Lock()
	return n.mu.Unlock
}

// systemPath is systemPath in the current namespace; the caller holds mu.
func (n *namespace) systemPath(p string) string { return systemPath(p, n.mounted, n.bootBound) }

// snapshot returns mounted and bootBound.
func (n *namespace) snapshot() (mounted, bootBound bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.mounted, n.bootBound
}
