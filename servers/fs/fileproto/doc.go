// Package fileproto is the file protocol: what the kernel's Linux front
// end sends to a file server (fsd) when a program's file call resolves,
// through its mount table, to a path that server owns. It is declared
// once here with valence.dev/ipc/rpc; the forwarding client in the
// kernel and fsd both import it.
//
// # Model
//
// A client is a badge: the kernel mints one endpoint capability per
// process (or per mount of a process), so the server keeps each
// client's open files and buffers apart and frees them when the kernel
// calls Forget (at the process's exit). An open file is a Fid, a small
// number the server chose, good only for the client that opened it: any
// other client naming it gets EBADF. Fid 0 is never issued; in an At it
// means the root of the mount.
//
// Paths are relative to the mount: the kernel strips the mount prefix.
// An At names a file as a path resolved from a directory: Dir (an open
// directory's Fid, or 0 for the root) and Path. A path starting with
// "/" starts at the root whatever Dir is; "." and ".." are resolved by
// the server (".." at the root stays there), and so are symlinks, with
// at most MaxSymlinks per resolution (ELOOP beyond). An absolute symlink
// target is taken from the root of the mount, which is right for the
// root filesystem; for other mounts the kernel must not rely on
// absolute targets yet. An empty Path names Dir itself: that is how
// fstat, fchmod, fchown, futimens and ftruncate reach an open file
// (the AT_EMPTY_PATH convention; the kernel decides when that applies).
//
// Credentials travel in every call that checks permissions (Cred: uid,
// gid, supplementary groups). The server trusts them: its only clients
// are the kernel, which fills them from the calling process, never the
// process itself. The server checks the owner/group/other bits against
// them (and the sticky bit for removals); uid 0 passes every check but
// execute, which needs some execute bit on a non-directory. The umask is
// the kernel's business: Mode in Open and Mkdir is applied as given.
//
// # Data
//
// Read and Write carry up to MaxInline bytes in the message. Larger
// transfers go through a shared buffer, as in the block protocol: the
// client calls Attach for a buffer (the server allocates it and returns
// a memory handle to map), then names a range of it in Read or Write
// (Buf and BufOff; Buf 0 means inline). Each client may hold up to
// MaxBuffers buffers of up to MaxBuffer bytes. The client must not touch
// a range while a call using it is in flight.
//
// The file offset is the kernel's: Read and Write name their offset.
// For a file opened with O_APPEND, Write ignores Off, writes at the end
// of the file, atomically with respect to other writers, and returns in
// End the offset just past what it wrote, which the kernel makes the
// file offset.
//
// # Methods
//
//	label  name      request          reply
//	1      Attach    AttachRequest    AttachReply    a shared buffer
//	2      Detach    DetachRequest    Empty          give one back
//	3      Open      OpenRequest      OpenReply      openat(2); the file's Fid and Stat
//	4      Close     FidRequest       Empty          close(2) of the last reference
//	5      Read      ReadRequest      ReadReply      pread64(2)
//	6      Write     WriteRequest     WriteReply     pwrite64(2), write(2) with O_APPEND
//	7      Stat      StatRequest      Stat           newfstatat(2), statx(2)
//	8      Fstat     FidRequest       Stat           fstat(2), also of an unlinked file
//	9      Getdents  GetdentsRequest  GetdentsReply  getdents64(2), batched
//	10     Mkdir     MkdirRequest     Empty          mkdirat(2)
//	11     Unlink    UnlinkRequest    Empty          unlinkat(2), AT_REMOVEDIR for rmdir
//	12     Rename    RenameRequest    Empty          renameat2(2): RENAME_NOREPLACE; not EXCHANGE (EINVAL)
//	13     Link      LinkRequest      Empty          linkat(2)
//	14     Symlink   SymlinkRequest   Empty          symlinkat(2)
//	15     Readlink  PathRequest      ReadlinkReply  readlinkat(2)
//	16     Chmod     ChmodRequest     Empty          fchmodat(2), fchmod(2)
//	17     Chown     ChownRequest     Empty          fchownat(2), fchown(2)
//	18     Utimens   UtimensRequest   Empty          utimensat(2), UTIME_NOW/UTIME_OMIT
//	19     Truncate  TruncateRequest  Empty          truncate(2), ftruncate(2)
//	20     Fsync     FidRequest       Empty          fsync(2), fdatasync(2)
//	21     Sync      Empty            Empty          sync(2), syncfs(2)
//	22     Statfs    Empty            Statfs         statfs(2), fstatfs(2)
//	23     Access    AccessRequest    Empty          faccessat2(2)
//	24     Forget    Empty            Empty          the client exited: close all it holds
//	25     Mknod     MknodRequest     Empty          mknodat(2): a socket node (bind(2)) or a FIFO
//
// # Errors
//
// A refusal is an *rpc.Error whose Code is the Linux errno to give the
// program (ENOENT, EACCES, EBADF, ...), so the kernel passes it on as
// it is. EOWNERDEAD from the transport means the server died: its Fids
// are gone with it; the kernel answers EIO on them (and reconnects for
// new opens once the server is back).
//
// Every file the server writes is durable once Fsync or Sync returns;
// before that, a crash may lose recent changes but never tears one: the
// filesystem commits whole operations (see valence.dev/servers/fs/fs).
package fileproto
