// Package fsd serves the file protocol (valence.dev/servers/fs/fileproto)
// on a mounted filesystem (valence.dev/servers/fs/fs): the user-space
// file server that the kernel's namespace forwards file calls to. In the
// OS the filesystem sits on a disk driver through blockclient; hosted
// tests mount it on blockdev.Mem and call it through memtransport.
//
// # Requests
//
// One mutex (Server.mu) serialises every request. The filesystem
// serialises its own operations anyway, and one request here may make
// several filesystem calls (a walk of Lstats, the change, a chown of
// what it created), which the mutex makes atomic with respect to other
// requests and to periodic commits. Each handler follows the
// decode/check/act order: flags and sizes first, then the walk
// (resolve.go) with search permission on every directory, then the
// permission and type checks (perm.go), and only then one filesystem
// change. A refusal changes nothing.
//
// # Paths
//
// The server walks paths itself, so it can check permissions on the way
// and count symlinks (MaxSymlinks, then ELOOP); what it passes to the
// filesystem is the resulting symlink-free path. Components are at most
// 255 bytes (ENAMETOOLONG), a path at most PATH_MAX; a NUL is EINVAL.
// "." and ".." are taken on the way (".." at the root stays there);
// a name ending in "/" must be a directory.
//
// # Clients and open files
//
// A client is the badge it calls with. Its table maps Fids to open
// files; a Fid is good only in the table of the client that opened it
// (others get EBADF). Bounds keep a client from exhausting the server:
// MaxFilesPerClient (EMFILE), MaxFiles in all (ENFILE), MaxClients,
// fileproto.MaxBuffers shared buffers each and MaxSharedBytes in all;
// a directory stream buffers at most one batch of entries. Forget (the
// kernel's call when a process exits) closes everything a client holds,
// and a client holding nothing is dropped.
//
// An open file keeps the symlink-free path it was opened by, updated
// when a rename moves it or a directory above it. The filesystem
// changes attributes by path only, so fchmod, fchown, futimens and
// lookups relative to an open directory use that path, after checking
// it still names the same inode; for a file since unlinked (or whose
// path was renamed over) they fail (ENOENT) although Linux would
// succeed. Reading, writing, fstat and ftruncate use the handle and work
// on unlinked files.
//
// # Commits
//
// Fsync, Sync and writes to an O_SYNC/O_DSYNC file commit the whole
// filesystem; CommitEvery commits periodically, bounding what a crash
// loses of unsynced work. The filesystem also commits by itself between
// operations when its dirty set grows. Such a commit can fall between
// the creation of a file and the chown that gives it to its creator, so
// a crash may leave a new file owned by root (mode as asked); nothing
// else a request does is split.
//
// # Not done yet
//
// RENAME_EXCHANGE (EINVAL), changing a symlink's own attributes
// (EOPNOTSUPP), attribute changes through an open unlinked file, O_PATH
// and O_TMPFILE (EINVAL), absolute symlink targets on a filesystem not
// mounted at / (they resolve from this filesystem's root), and ".."
// leaving the mount (it stays at the root; the kernel should resolve
// paths that cross mounts before forwarding them).
package fsd
