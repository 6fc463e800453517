package mountproto

import (
	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
)

// Empty is a request or reply with nothing in it.
type Empty struct{}

// MountRequest is mount(2)'s request as the kernel read it: Source (a
// device path such as "/dev/vda", or a driver's name), FSType ("valfs"),
// Flags (MS_* bits the kernel did not handle itself, MS_RDONLY among
// them) and Data (the option string, "" if none). Uid is the caller's
// effective uid, for the mounter's own policy.
type MountRequest struct {
	Source string
	FSType string
	Flags  uint64
	Data   string
	Uid    uint32
}

// MountReply is a started server: Server is a client capability on it
// (a file-protocol endpoint, servers/fs/fileproto), ID names this mount
// in Unmount, and Source is the device's canonical name for /proc/mounts.
type MountReply struct {
	ID     uint64
	Server ipc.Handle
	Source string
}

// UnmountRequest says that mount ID is gone from the namespace that had
// it: the mounter syncs and stops its server.
type UnmountRequest struct {
	ID uint64
}

// The methods. Labels are the wire identity of a method: never reuse or
// renumber one.
var (
	Mount   = rpc.Method[MountRequest, MountReply]{Label: 1, Name: "Mount"}
	Unmount = rpc.Method[UnmountRequest, Empty]{Label: 2, Name: "Unmount"}
)

// Protocol is the mount protocol.
var Protocol = rpc.NewProtocol("mount", Mount.Def(), Unmount.Def())

// Limits of a request: the kernel refuses longer arguments (ENAMETOOLONG
// for Source and FSType, EINVAL for Data) so that a request always fits
// in one message.
const (
	MaxSource = 1024 // bytes of Source
	MaxFSType = 64   // bytes of FSType
	MaxData   = 2048 // bytes of Data
)
