// Package mountproto is the mount protocol: what the kernel sends to the
// mounter, the user-space process that turns mount(2) of a device into a
// running file server. It is declared once here with valence.dev/ipc/rpc;
// the kernel (the client) and bootstrap (the server) both import it.
//
// # Why a mounter
//
// A Valence filesystem is a server (fsd), and starting one is policy:
// which program serves which filesystem type, on which driver, who
// supervises it. The kernel keeps none of that. When a program calls
// mount(2) with a source and a filesystem type the kernel does not
// serve itself (it serves "proc", and bind mounts), it asks the mounter
// with Mount; the mounter starts a server on the device and answers with
// a client capability on it, which the kernel mounts at the target in
// the caller's namespace. When that mount is removed with umount2(2), the
// kernel says so with Unmount and the mounter stops the server once it
// has synced. The first process registers itself as the mounter
// (ipc.SysMounter); with none registered, mount(2) of a device is ENODEV.
//
// # Methods
//
//	label  name     request          reply
//	1      Mount    MountRequest     MountReply    start a server for mount(2)
//	2      Unmount  UnmountRequest   Empty         its last mount is gone
//
// # Errors
//
// A refusal is an *rpc.Error whose Code is the errno mount(2) returns
// (ENODEV for an unknown filesystem type, ENOENT or ENXIO for an unknown
// device, EBUSY for a device already mounted, EINVAL for a device that
// holds no such filesystem), so the kernel passes it on as it is. The
// Msg is for the console: the kernel logs it, since errno alone rarely
// says why a disk was refused.
package mountproto
