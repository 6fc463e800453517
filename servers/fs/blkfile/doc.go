// Package blkfile serves one block device as a block-special file over
// the file protocol (valence.dev/servers/fs/fileproto): what Linux
// programs expect to find at /dev/vda or /dev/nvme0n1, so that dd(1),
// cat(1), blkid(8) and mkfs(8) work on it. The kernel mounts the server
// at /dev/NAME; the root of that mount is the device file itself, not a
// directory.
//
// # The namespace
//
// Exactly one file exists: the root. An At names it when its Path is
// "/" (whatever Dir is, as an absolute path ignores dirfd on Linux),
// when Dir is 0 and Path is "" or ".", or when Dir is an open Fid of
// the caller and Path is "" (the AT_EMPTY_PATH convention fstat, fchmod
// and friends use). A Dir that is not one of the caller's Fids is EBADF.
// Every other path asks for something below the device file, or for "."
// of an open file, and gets ENOTDIR, as Linux answers for a path that
// continues through a non-directory. A path over PATH_MAX is
// ENAMETOOLONG first, as getname(9) refuses it before any lookup.
//
// The calls that name a path below the root therefore fail with
// ENOTDIR; where they name the root itself, they fail as Linux fails
// for a mount point that is a file (names.go lists each case). Creating
// something where the root is (mkdir, symlink, link, open with
// O_CREAT|O_EXCL) is EEXIST; unlink is EBUSY (vfs_unlink refuses a
// mount point), rmdir ENOTDIR (may_delete checks the type first);
// renaming the root onto itself succeeds and changes nothing
// (vfs_rename returns early when source and target are the same), any
// other rename is ENOTDIR for a path below, and readlink is EINVAL.
// Getdents is ENOTDIR; truncate and ftruncate are EINVAL (vfs_truncate
// and do_ftruncate refuse anything but a regular file).
//
// # Attributes
//
// The file has the owner, group and mode of Options (root:disk 0660 by
// default), S_IFBLK, inode 1, one link, the device number Options.Rdev
// and st_dev 5 (0:5, the devtmpfs of a typical Linux system). Its size
// is the device's, Blocks() times 4096 bytes, with st_blksize 4096 and
// st_blocks in 512-byte units. All three times are the server's start
// until Chmod, Chown or Utimens change them; those changes live in
// memory only, as they do on Linux's devtmpfs, and are lost when the
// server restarts. Reads and writes do not touch the times: on Linux
// they update the block device's own inode, not the /dev node stat(2)
// describes. The permission checks are Linux's (perm.go); only root or
// the owner changes attributes.
//
// # Data
//
// A read returns bytes [Off, Off+Len) clipped at the end of the device,
// and 0 bytes at or past it (blkdev_read_iter). A write at or past the
// end is ENOSPC, one that runs past it is cut short there, and one of 0
// bytes succeeds anywhere (blkdev_write_iter, in that order). O_APPEND
// changes nothing: blkdev_write_iter never moves the position to the
// end, so a write lands at Off and End is Off+N. Offsets are bytes; the
// server reads the blocks that cover a request, and a write that covers
// a block partly reads it, changes its part and writes it back. A write
// that fails after some blocks reached the device reports the bytes
// before the failure (a short write); the next write then meets the
// error. A read that fails reports EIO, never a short count, which a
// program would take for the end of the device. Every device error is
// EIO, with the device's message in Msg.
//
// There is no cache: every write reaches the device before Write
// returns, as with O_DIRECT on Linux, so O_DIRECT is accepted and
// changes nothing. Durability is the device's: Fsync, Sync and writes
// through an O_SYNC or O_DSYNC file call Device.Flush.
//
// Data travels inline (fileproto.MaxInline bytes a call) or through
// shared buffers from Options.Memory (fsd.SharedMemory, the allocator
// fsd uses, so one implementation serves both); without Memory, Attach
// is EOPNOTSUPP and the kernel stays inline. A call moves at most one
// buffer's worth, fileproto.MaxBuffer bytes.
//
// # Opening
//
// Open checks the permission bits for the access asked (O_TRUNC counts
// as asking to write, as build_open_flags makes it, although it then
// truncates nothing on a device), then refuses writing to a read-only
// server with EROFS (sd_open's answer for write-protected media), so a
// read-only server never holds a Fid open for writing and Write there
// is always EBADF. As on
// Linux, O_EXCL without O_CREAT claims the device exclusively: while one
// such Fid is open, other O_EXCL opens are EBUSY; plain opens are not
// affected. O_NOATIME needs ownership (EPERM). O_DIRECTORY is ENOTDIR.
//
// # Concurrency and invariants
//
// Three locks, always taken in this order:
//
//   - mu guards the client tables (Fids, buffers, counts). Read and
//     Write hold it shared for their whole transfer, so that Detach or
//     Forget, which hold it exclusively, cannot free a buffer a transfer
//     is still using.
//   - io orders the device: any number of ReadAt calls at once, or one
//     writer alone (a Write's read-modify-write of its blocks, or a
//     Flush). So two writes to one block never lose each other's bytes,
//     a read never sees half of a write, and the device need only
//     tolerate concurrent reads (blockdev.Mem does).
//   - attrMu guards the attributes.
//
// Each handler decodes and checks everything before it changes
// anything, so a refused request changes nothing. A Fid is good only
// for the client (badge) that opened it; Fid 0 and buffer 0 are never
// issued. Limits: MaxFilesPerClient Fids per client (EMFILE), MaxFiles
// in all (ENFILE), fileproto.MaxBuffers buffers per client and
// MaxSharedBytes of buffers in all (ENOMEM). Forget closes a client's
// Fids (and its exclusive claim) and frees its buffers; a client that
// holds nothing is dropped. No request panics on any input.
package blkfile
