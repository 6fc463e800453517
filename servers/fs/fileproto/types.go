package fileproto

import "valence.dev/ipc"

// Empty is a request or reply with nothing in it.
type Empty struct{}

// Cred is the identity a call is checked against: the calling
// process's filesystem uid and gid and its supplementary groups (at
// most MaxGroups).
type Cred struct {
	Uid    uint32
	Gid    uint32
	Groups []uint32
}

// At names a file: Path resolved from the open directory Dir (0: the
// root of the mount). An empty Path names Dir itself.
type At struct {
	Dir  uint32
	Path string
}

// Timespec is a time as Linux passes it: seconds and nanoseconds since
// the Unix epoch. In Utimens, Nsec may be UTIME_NOW or UTIME_OMIT.
type Timespec struct {
	Sec  int64
	Nsec int64
}

// Stat is what stat(2) reports.
type Stat struct {
	Dev     uint64 // the filesystem's volume id
	Ino     uint64
	Mode    uint32 // S_IFMT type bits and permission bits
	Nlink   uint32
	Uid     uint32
	Gid     uint32
	Size    int64
	Blocks  int64 // 512-byte units
	Blksize int32
	Atime   Timespec
	Mtime   Timespec
	Ctime   Timespec
	Rdev    uint64 // the device a block or character special file is (Linux's makedev encoding)
}

// AttachRequest asks for a shared buffer of Size bytes (1 to MaxBuffer).
type AttachRequest struct {
	Size uint64
}

// AttachReply is a new buffer: ID names it in Read and Write; Mem is a
// memory handle the client maps.
type AttachReply struct {
	ID   uint32
	Size uint64
	Mem  ipc.Handle
}

// DetachRequest gives buffer ID back.
type DetachRequest struct {
	ID uint32
}

// OpenRequest opens At with the open(2) Flags (O_RDONLY, O_WRONLY,
// O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY, O_NOFOLLOW;
// O_CLOEXEC, O_NONBLOCK, O_LARGEFILE and O_NOCTTY are the kernel's and
// ignored; others are EINVAL). Mode is the permission of a created file.
type OpenRequest struct {
	Cred  Cred
	At    At
	Flags uint32
	Mode  uint32
}

// OpenReply is the open file and what it is.
type OpenReply struct {
	Fid  uint32
	Stat Stat
}

// FidRequest names an open file.
type FidRequest struct {
	Fid uint32
}

// ReadRequest reads up to Len bytes at Off. With Buf 0 the data comes
// back inline (Len at most MaxInline); otherwise it goes to bytes
// [BufOff, BufOff+Len) of buffer Buf.
type ReadRequest struct {
	Fid    uint32
	Off    int64
	Len    uint32
	Buf    uint32
	BufOff uint64
}

// ReadReply says how many bytes were read (fewer than asked only at the
// end of the file) and holds them when they came inline.
type ReadReply struct {
	N    uint32
	Data []byte
}

// WriteRequest writes at Off (ignored for O_APPEND files): Data when Buf
// is 0 (at most MaxInline bytes), else Len bytes from [BufOff,
// BufOff+Len) of buffer Buf.
type WriteRequest struct {
	Fid    uint32
	Off    int64
	Data   []byte
	Buf    uint32
	BufOff uint64
	Len    uint32
}

// WriteReply says how many bytes were written and the offset just past
// them.
type WriteReply struct {
	N   uint32
	End int64
}

// StatRequest describes At; with AT_SYMLINK_NOFOLLOW in Flags a final
// symlink is described itself.
type StatRequest struct {
	Cred  Cred
	At    At
	Flags uint32
}

// GetdentsRequest reads the next entries of directory Fid: at most Max
// (0: as many as fit in a reply). Restart starts again from the first
// entry (rewinddir, lseek to 0).
type GetdentsRequest struct {
	Fid     uint32
	Max     uint32
	Restart bool
}

// Dirent is one directory entry. Off is its position in the stream
// (d_off: where the entry after it starts); Type is a DT_ value.
type Dirent struct {
	Ino  uint64
	Off  int64
	Type uint8
	Name string
}

// GetdentsReply holds the next entries, "." and ".." first; End says
// the directory has no more after them.
type GetdentsReply struct {
	Entries []Dirent
	End     bool
}

// MkdirRequest makes a directory with permission Mode.
type MkdirRequest struct {
	Cred Cred
	At   At
	Mode uint32
}

// MknodRequest makes a special file at At (mknodat(2)): Mode holds the
// type, S_IFSOCK (the node of a bound AF_UNIX socket, which the kernel
// serves) or S_IFIFO, and the permission bits. A server that keeps no
// such files refuses with EPERM, as Linux's filesystems without them.
type MknodRequest struct {
	Cred Cred
	At   At
	Mode uint32
}

// UnlinkRequest removes a name: a directory with AT_REMOVEDIR in Flags,
// anything else without.
type UnlinkRequest struct {
	Cred  Cred
	At    At
	Flags uint32
}

// RenameRequest renames Old to New; Flags may hold RENAME_NOREPLACE.
type RenameRequest struct {
	Cred     Cred
	Old, New At
	Flags    uint32
}

// LinkRequest makes New another name of Old; with AT_SYMLINK_FOLLOW in
// Flags a final symlink in Old is followed.
type LinkRequest struct {
	Cred     Cred
	Old, New At
	Flags    uint32
}

// SymlinkRequest makes At a symlink to Target.
type SymlinkRequest struct {
	Cred   Cred
	Target string
	At     At
}

// PathRequest names a file, for calls that need nothing more.
type PathRequest struct {
	Cred Cred
	At   At
}

// ReadlinkReply is a symlink's target.
type ReadlinkReply struct {
	Target string
}

// ChmodRequest sets the permission bits; with AT_SYMLINK_NOFOLLOW a
// final symlink is not followed (and refused, as on Linux).
type ChmodRequest struct {
	Cred  Cred
	At    At
	Flags uint32
	Mode  uint32
}

// ChownRequest sets the owner and group; NoChange leaves one as it is.
type ChownRequest struct {
	Cred     Cred
	At       At
	Flags    uint32
	Uid, Gid uint32
}

// UtimensRequest sets the access and modification times.
type UtimensRequest struct {
	Cred         Cred
	At           At
	Flags        uint32
	Atime, Mtime Timespec
}

// TruncateRequest sets the size of a regular file. With an empty path,
// At.Dir is the file, which must be open for writing (ftruncate);
// otherwise the caller needs write permission (truncate).
type TruncateRequest struct {
	Cred Cred
	At   At
	Size int64
}

// AccessRequest checks Mode (an OR of MayRead, MayWrite, MayExec; 0
// checks existence) against the file.
type AccessRequest struct {
	Cred  Cred
	At    At
	Mode  uint32
	Flags uint32
}

// Statfs is what statfs(2) reports.
type Statfs struct {
	Type    uint64 // Magic
	Bsize   int64
	Blocks  uint64
	Bfree   uint64
	Bavail  uint64
	Files   uint64
	Ffree   uint64
	Fsid    uint64
	Namelen int64
	Frsize  int64
}
