// Package vfs is a process's file namespace: its mount table, which maps
// absolute path prefixes to the filesystems that serve them.
//
// Design. A Table is immutable: Mount and Unmount return a new table, so a
// process's table can be shared with the children it creates (they
// inherit it, as on Plan 9 and Redox) and changed by one process without
// touching anyone else's. What a mount serves is an opaque value (the
// kernel's proc package uses its own filesystem interface: the initfs, the
// devices, /proc, and servers of the file protocol reached over IPC), plus
// the directory inside it that is mounted (Root, non-empty for a bind
// mount of a subdirectory).
//
// Resolution is lexical: Find cleans the absolute path and picks the mount
// with the longest target that is a prefix of it at a component boundary,
// returning the rest of the path relative to that mount's Root. The
// filesystem then walks the rest itself, following its own symlinks. The
// consequence, written down in docs/filesystems.md: ".." is applied to
// the path before the mount is chosen (as path.Clean does, not as a walk
// through a symlink would), and a symlink inside one mount whose target is
// absolute is resolved from that filesystem's own root, not across mounts.
//
// Invariants: a Table always has a mount at "/" once built with New; the
// targets are clean absolute paths, unique within a table; tables are
// never modified after they are returned.
package vfs
