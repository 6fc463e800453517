package fileproto

import (
	"syscall"

	"gvisor.dev/gvisor/pkg/abi/linux"

	"valence.dev/ipc/rpc"
)

// The methods. Labels are the wire identity of a method: never reuse or
// renumber one.
var (
	Attach   = rpc.Method[AttachRequest, AttachReply]{Label: 1, Name: "Attach"}
	Detach   = rpc.Method[DetachRequest, Empty]{Label: 2, Name: "Detach"}
	Open     = rpc.Method[OpenRequest, OpenReply]{Label: 3, Name: "Open"}
	Close    = rpc.Method[FidRequest, Empty]{Label: 4, Name: "Close"}
	Read     = rpc.Method[ReadRequest, ReadReply]{Label: 5, Name: "Read"}
	Write    = rpc.Method[WriteRequest, WriteReply]{Label: 6, Name: "Write"}
	StatAt   = rpc.Method[StatRequest, Stat]{Label: 7, Name: "Stat"}
	Fstat    = rpc.Method[FidRequest, Stat]{Label: 8, Name: "Fstat"}
	Getdents = rpc.Method[GetdentsRequest, GetdentsReply]{Label: 9, Name: "Getdents"}
	Mkdir    = rpc.Method[MkdirRequest, Empty]{Label: 10, Name: "Mkdir"}
	Unlink   = rpc.Method[UnlinkRequest, Empty]{Label: 11, Name: "Unlink"}
	Rename   = rpc.Method[RenameRequest, Empty]{Label: 12, Name: "Rename"}
	Link     = rpc.Method[LinkRequest, Empty]{Label: 13, Name: "Link"}
	Symlink  = rpc.Method[SymlinkRequest, Empty]{Label: 14, Name: "Symlink"}
	Readlink = rpc.Method[PathRequest, ReadlinkReply]{Label: 15, Name: "Readlink"}
	Chmod    = rpc.Method[ChmodRequest, Empty]{Label: 16, Name: "Chmod"}
	Chown    = rpc.Method[ChownRequest, Empty]{Label: 17, Name: "Chown"}
	Utimens  = rpc.Method[UtimensRequest, Empty]{Label: 18, Name: "Utimens"}
	Truncate = rpc.Method[TruncateRequest, Empty]{Label: 19, Name: "Truncate"}
	Fsync    = rpc.Method[FidRequest, Empty]{Label: 20, Name: "Fsync"}
	Sync     = rpc.Method[Empty, Empty]{Label: 21, Name: "Sync"}
	StatFS   = rpc.Method[Empty, Statfs]{Label: 22, Name: "Statfs"}
	Access   = rpc.Method[AccessRequest, Empty]{Label: 23, Name: "Access"}
	Forget   = rpc.Method[Empty, Empty]{Label: 24, Name: "Forget"}
	Mknod    = rpc.Method[MknodRequest, Empty]{Label: 25, Name: "Mknod"}
)

// Protocol is the file protocol.
var Protocol = rpc.NewProtocol("file",
	Attach.Def(), Detach.Def(), Open.Def(), Close.Def(), Read.Def(), Write.Def(),
	StatAt.Def(), Fstat.Def(), Getdents.Def(), Mkdir.Def(), Unlink.Def(), Rename.Def(),
	Link.Def(), Symlink.Def(), Readlink.Def(), Chmod.Def(), Chown.Def(), Utimens.Def(),
	Truncate.Def(), Fsync.Def(), Sync.Def(), StatFS.Def(), Access.Def(), Forget.Def(),
	Mknod.Def(),
)

// Limits of the protocol.
const (
	MaxInline   = 3072    // bytes of data in one Read reply or Write request
	MaxBuffer   = 4 << 20 // bytes in one shared buffer (ipc.MaxDMA)
	MaxBuffers  = 4       // shared buffers per client
	MaxGroups   = 256     // supplementary groups in a Cred
	MaxSymlinks = 40      // symlinks followed in one resolution (ELOOP beyond)
	MaxNameLen  = 255     // bytes in one path component (ENAMETOOLONG beyond)
	MaxPathLen  = 4096    // bytes in a path, as PATH_MAX (ENAMETOOLONG beyond)
)

// Magic is the filesystem type statfs reports ("VALF").
const Magic = 0x56414c46

// Flag values: Linux's, from gvisor's ABI package, so that the kernel
// passes a program's flags on unchanged.
const (
	O_ACCMODE   = linux.O_ACCMODE
	O_RDONLY    = linux.O_RDONLY
	O_WRONLY    = linux.O_WRONLY
	O_RDWR      = linux.O_RDWR
	O_CREAT     = linux.O_CREAT
	O_EXCL      = linux.O_EXCL
	O_NOCTTY    = linux.O_NOCTTY
	O_TRUNC     = linux.O_TRUNC
	O_APPEND    = linux.O_APPEND
	O_NONBLOCK  = linux.O_NONBLOCK
	O_DIRECTORY = linux.O_DIRECTORY
	O_NOFOLLOW  = linux.O_NOFOLLOW
	O_LARGEFILE = linux.O_LARGEFILE
	O_CLOEXEC   = linux.O_CLOEXEC

	AT_SYMLINK_NOFOLLOW = linux.AT_SYMLINK_NOFOLLOW
	AT_SYMLINK_FOLLOW   = linux.AT_SYMLINK_FOLLOW
	AT_REMOVEDIR        = linux.AT_REMOVEDIR
	AT_EACCESS          = linux.AT_EACCESS

	RENAME_NOREPLACE = linux.RENAME_NOREPLACE
	RENAME_EXCHANGE  = linux.RENAME_EXCHANGE

	UTIME_NOW  = linux.UTIME_NOW
	UTIME_OMIT = linux.UTIME_OMIT

	DT_REG  = linux.DT_REG
	DT_DIR  = linux.DT_DIR
	DT_LNK  = linux.DT_LNK
	DT_SOCK = linux.DT_SOCK
	DT_FIFO = linux.DT_FIFO

	S_IFMT  = linux.S_IFMT
	S_IFREG = linux.S_IFREG
	S_IFDIR = linux.S_IFDIR
	S_IFLNK = linux.S_IFLNK
)

// Access modes (access(2)'s R_OK, W_OK, X_OK), which are also the
// bits of one rwx triple.
const (
	MayExec  = 1
	MayWrite = 2
	MayRead  = 4
)

// NoChange in ChownRequest leaves the owner or group as it is (Linux's
// -1).
const NoChange = ^uint32(0)

// The protocol's errors that are not plain errnos.
var (
	// ErrBadFid: the Fid is not open for this client (EBADF).
	ErrBadFid = &rpc.Error{Code: int32(syscall.EBADF), Msg: "file: bad file id"}
	// ErrBuffer: an unknown buffer, or a range outside it (EFAULT).
	ErrBuffer = &rpc.Error{Code: int32(syscall.EFAULT), Msg: "file: bad buffer range"}
)
