package procfs

import (
	"fmt"
	"slices"
	"strings"
)

// Kind is what a Node is.
type Kind uint8

// The kinds of Node. The zero Kind is none of them.
const (
	Dir Kind = iota + 1
	File
	Symlink
)

func (k Kind) String() string {
	switch k {
	case Dir:
		return "Dir"
	case File:
		return "File"
	case Symlink:
		return "Symlink"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Node is one /proc object as found by Lookup. It is self-contained: it
// holds no reference to the Source or to kernel state.
type Node struct {
	Kind    Kind
	Mode    uint32  // permission bits only
	Ino     uint64  // stable for a given path, never 0 (see doc.go)
	Data    []byte  // File: the whole content, rendered at Lookup time
	Link    string  // Symlink: the target
	Entries []Entry // Dir: sorted by name, without "." and ".."
	UID     uint32  // owner: the process's for /proc/<pid>/...; 0 otherwise
	GID     uint32
}

// Entry is one name in a directory.
type Entry struct {
	Name string
	Kind Kind
	Ino  uint64
}

// Permission bits, as Linux gives them.
const (
	modeDir     = 0o555
	modeFile    = 0o444
	modeSymlink = 0o777
	modePrivate = 0o400 // environ
	modeFDDir   = 0o500
	modeFDLink  = 0o700
)

// Inode numbers: ino(pid, slot) = pid<<32 | slot. pid is 0 for /proc
// itself and its system files; slot is 1 for a directory itself, a fixed
// number per name (root.go, process.go), or fdSlot|n for fd/n.
const (
	dirSlot = 1
	fdSlot  = 1 << 31

	maxPID = 1<<31 - 1 // pids above are not shown (Linux's pid_t is int32)
	maxFD  = 1<<31 - 1
)

func ino(pid int, slot uint32) uint64 {
	return uint64(pid)<<32 | uint64(slot)
}

// dirNode returns a directory node over entries, which it sorts.
func dirNode(mode uint32, i uint64, entries []Entry, uid, gid uint32) Node {
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return Node{Kind: Dir, Mode: mode, Ino: i, Entries: entries, UID: uid, GID: gid}
}
