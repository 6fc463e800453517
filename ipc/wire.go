package ipc

// The message format of endpoint calls, shared by the kernel and user
// space. A message is a fixed-layout Message structure in the caller's
// memory: a header, up to MaxData bytes of inline data, and up to
// MaxHandles handles. The kernel copies the header and the first DataLen
// bytes; handles listed in the header are moved (or attenuated copies
// granted) into the receiver's handle table, and the receiver sees the
// new handle values in place of the sender's.
//
// Bulk data does not travel in messages: share a memory object instead.

// Limits of one message.
const (
	MaxData    = 4096
	MaxHandles = 4
)

// Handle names a capability in a process's handle table. The value
// carries the slot in its low 32 bits and the slot's generation in its
// high 32 bits, so a closed handle's value never names a later object.
// Zero is never a valid handle.
type Handle uint64

// Header is the fixed part of a message. Layout (little endian, 64 bytes):
//
//	0   Label    uint64   what the message is (a protocol's method number)
//	8   Badge    uint64   set by the kernel on receipt: the badge of the
//	                      endpoint capability the sender called through
//	16  DataLen  uint32   bytes of Data that are valid (<= MaxData)
//	20  NHandles uint32   entries of Handles that are valid (<= MaxHandles)
//	24  Handles  [4]Handle
//	56  Flags    uint32   MsgNotification when the kernel delivered
//	                      notification bits instead of a call
//	60  Status   int32    in replies: 0, or an error code (see errors.go)
type Header struct {
	Label    uint64
	Badge    uint64
	DataLen  uint32
	NHandles uint32
	Handles  [MaxHandles]Handle
	Flags    uint32
	Status   int32
}

// HeaderSize is the size of Header in bytes.
const HeaderSize = 64

// Message is a header followed by inline data.
type Message struct {
	Header
	Data [MaxData]byte
}

// Header flags.
const (
	// MsgNotification marks a receive that returned notification bits
	// (in Label) rather than a call: see SysNotifyBind.
	MsgNotification = 1
)

// Rights a capability can carry. Attenuation only ever removes rights.
type Rights uint32

const (
	RightRead      Rights = 1 << iota // receive on an endpoint; read a memory object; wait on a notification or process
	RightWrite                        // call an endpoint; write a memory object
	RightGrant                        // pass the capability to another process in a message
	RightDuplicate                    // make a copy in the same handle table (with equal or fewer rights)
	RightMap                          // map a memory object
	RightSignal                       // signal a notification; kill a process
	RightManage                       // revoke what was derived from it; bind; other owner-only operations

	RightsAll = RightRead | RightWrite | RightGrant | RightDuplicate | RightMap | RightSignal | RightManage
)

// Object types a handle may name (HandleInfo.Type).
const (
	TypeEndpoint     = 1
	TypeNotification = 2
	TypeMemory       = 3
	TypeProcess      = 4
	TypeDevice       = 5 // the root device capability
	TypeIRQ          = 6
	TypePorts        = 7
)

// HandleInfo is what SysHandleInfo reports about a handle.
type HandleInfo struct {
	Type   uint32
	Rights Rights
	Badge  uint64
	Object uint64 // a kernel-wide object ID: equal IDs mean the same object
	Size   uint64 // memory objects: size in bytes
	Gen    uint64 // endpoints: changes when the endpoint's server dies
}
