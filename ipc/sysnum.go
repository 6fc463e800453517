package ipc

// NativeBase is the first native system call number; Linux's amd64 numbers
// end far below it.
const NativeBase = 0x1000

// Native system calls for processes.
const (
	// SysSpawn starts a program: (path *byte, argv **byte, envp **byte)
	// -> pid. The strings are NUL-terminated and the arrays NULL-terminated,
	// as for execve. The child gets the caller's standard descriptors 0-2
	// and no others, and is the caller's child.
	SysSpawn = NativeBase + 0x10
	// SysWait waits for a child to end: (pid, status *uint32, flags) ->
	// pid. status gets the wait(2) encoding; flags may be WaitNoHang.
	SysWait = NativeBase + 0x11
	// SysKill ends a process: (pid, signal) -> 0. Only the caller's
	// descendants may be killed.
	SysKill = NativeBase + 0x12
	// SysMemInfo reports memory use: (info *MemInfo, size) -> 0. size is
	// the caller's sizeof(MemInfo); 0 means the first four fields only
	// (programs built before the others existed).
	SysMemInfo = NativeBase + 0x13
)

// WaitNoHang makes SysWait return 0 at once if the child is still running.
const WaitNoHang = 1

// MemInfo is what SysMemInfo reports, in bytes.
type MemInfo struct {
	Total     uint64 // physical memory managed by the kernel
	Free      uint64 // of which free
	UserPages uint64 // held by user address spaces (pages and page tables)
	Self      uint64 // of which held by the caller's own address space

	// Kernel memory and the caller's charge (docs/capabilities.md,
	// "Memory accounting").
	Kernel     uint64 // frames backing the kernel's own heap
	KernelLive uint64 // live kernel heap as of the kernel's last collection
	Reserve    uint64 // kept for the kernel: user allocations fail below it
	Charge     uint64 // what the caller is charged: pages, memory objects, kernel objects
}

// Resource limits beyond Linux's (whose RLIM_NLIMITS is 16), read and set
// with prlimit64 like the others (docs/processes.md).
const (
	// RlimitMemObjects bounds the bytes of memory objects a process has
	// created that still exist (they stay charged to their creator
	// until freed, whoever holds them).
	RlimitMemObjects = 16
	// RlimitThreads bounds the threads of one process.
	RlimitThreads = 17
	// RlimitHandles is the size of the handle table; it is fixed.
	RlimitHandles = 18
)

// Native system calls for capabilities and IPC (docs/ipc.md). Handles are
// ipc.Handle values; messages are ipc.Message structures in the caller's
// memory.
const (
	// SysHandleDup: (h, rights, badge) -> new handle with rights a subset
	// of h's; badge may be set only if h has none (0 keeps h's).
	SysHandleDup = NativeBase + 0x20
	// SysHandleClose: (h) -> 0.
	SysHandleClose = NativeBase + 0x21
	// SysHandleRevoke: (h) -> number removed: every capability derived
	// from h, in any process. Needs RightManage.
	SysHandleRevoke = NativeBase + 0x22
	// SysHandleInfo: (h, info *HandleInfo) -> 0.
	SysHandleInfo = NativeBase + 0x23

	// SysEndpointCreate: () -> endpoint handle; the caller serves it, and
	// it dies with the caller.
	SysEndpointCreate = NativeBase + 0x30
	// SysCall: (endpoint, request *Message, reply *Message) -> 0. Needs
	// RightWrite. Blocks until the server replies.
	SysCall = NativeBase + 0x31
	// SysRecv: (endpoint, buffer *Message) -> token (0 for notification
	// bits). Needs RightRead.
	SysRecv = NativeBase + 0x32
	// SysReply: (endpoint, token, reply *Message) -> 0.
	SysReply = NativeBase + 0x33
	// SysReplyRecv: (endpoint, token, reply *Message, buffer *Message) ->
	// next token. Token 0 sends no reply.
	SysReplyRecv = NativeBase + 0x34

	// SysNotifyCreate: () -> notification handle.
	SysNotifyCreate = NativeBase + 0x40
	// SysNotifySignal: (h, bits) -> 0. Needs RightSignal.
	SysNotifySignal = NativeBase + 0x41
	// SysNotifyWait: (h, flags) -> bits, cleared; flags&1 does not block.
	SysNotifyWait = NativeBase + 0x42
	// SysNotifyBind: (notification, endpoint) -> 0: the bits arrive
	// through the endpoint's receive as a MsgNotification message.
	SysNotifyBind = NativeBase + 0x43

	// SysMemCreate: (size) -> memory object handle (zeroed pages).
	SysMemCreate = NativeBase + 0x50
	// SysMemMap: (h, addr, prot, flags) -> address. prot is PROT_*; the
	// handle must carry RightMap and the rights prot needs. Unmap with
	// munmap.
	SysMemMap = NativeBase + 0x51

	// SysProcSpawn: (path, argv, envp, handles *Handle, n, pid *int32) ->
	// process handle. The child starts with exactly those handles
	// (VALENCE_HANDLES in its environment lists their values).
	SysProcSpawn = NativeBase + 0x60
	// SysProcKill: (h, signal) -> 0. Needs RightSignal.
	SysProcKill = NativeBase + 0x61
	// SysProcWait: (h, status *uint32) -> pid. Needs RightRead.
	SysProcWait = NativeBase + 0x62
	// SysProcNotify: (h, notification, bits) -> 0: signal bits when the
	// process ends.
	SysProcNotify = NativeBase + 0x63
	// SysProcEssential: (h, on) -> 0: mark a process essential, so the
	// out-of-memory killer takes it only when nothing else is left. Needs
	// RightManage, and the caller must be the first process or essential
	// itself.
	SysProcEssential = NativeBase + 0x64
)

// Native system calls for device drivers (docs/drivers.md). The root
// device capability (TypeDevice), which the first process is given (its
// handle value is in VALENCE_DEVICE_ROOT), creates the others; each needs
// RightManage on it. A PCI function's device capability (SysDevDerive)
// creates only DMA memory and MSI vectors.
const (
	// SysDevMMIO: (device, phys, size) -> memory handle over the device
	// registers at [phys, phys+size), page-aligned; mapped uncached and
	// never executable. Refused (EPERM) over RAM, the first megabyte and
	// the kernel's own devices.
	SysDevMMIO = NativeBase + 0x70
	// SysDevIRQ: (device, gsi, flags) -> IRQ handle for a legacy line
	// through the I/O APIC; flags: IRQLevel, IRQActiveLow. EBUSY if the
	// line is taken.
	SysDevIRQ = NativeBase + 0x71
	// SysDevMSI: (device, msi *MSI) -> IRQ handle for a message-signalled
	// interrupt; *msi gets the address and data to program into the device.
	SysDevMSI = NativeBase + 0x72
	// SysIRQBind: (irq, notification, bits) -> 0: each interrupt signals
	// bits on the notification, then the IRQ stays masked until SysIRQAck.
	// Needs RightWrite on the IRQ and RightSignal on the notification.
	SysIRQBind = NativeBase + 0x73
	// SysIRQAck: (irq) -> 0: unmask after serving the device. RightWrite.
	SysIRQAck = NativeBase + 0x74
	// SysDMACreate: (device, size) -> memory handle: zeroed, physically
	// contiguous memory for a device to reach (at most MaxDMA bytes),
	// charged to the caller like SysMemCreate.
	SysDMACreate = NativeBase + 0x75
	// SysMemPhys: (memory, offset) -> the address a device uses for that
	// byte of a DMA memory object. Needs RightMap.
	SysMemPhys = NativeBase + 0x76
	// SysDevPorts: (device, base, count) -> I/O port range handle. Refused
	// (EPERM) over the ports the kernel drives itself.
	SysDevPorts = NativeBase + 0x77
	// SysPortIn: (ports, port, width) -> value; width 1, 2 or 4. RightRead.
	SysPortIn = NativeBase + 0x78
	// SysPortOut: (ports, port, width, value) -> 0. RightWrite.
	SysPortOut = NativeBase + 0x79
	// SysDevInfo: (device, info *DevInfo, size) -> 0: the platform's
	// PCI configuration windows and whether DMA is isolated.
	SysDevInfo = NativeBase + 0x7A
	// SysDevDerive: (root, function) -> device capability of the PCI
	// function bus<<8|device<<3|function, for its driver: with it (and
	// RightManage) only SysDMACreate and SysDevMSI (at most 32 live
	// vectors) work; everything else needs the root (EPERM). ENODEV if
	// no such function answers.
	SysDevDerive = NativeBase + 0x7B
)

// Flags of SysDevIRQ.
const (
	IRQLevel     = 1 << 0 // level-triggered (PCI INTx lines are)
	IRQActiveLow = 1 << 1 // active low (PCI INTx lines are)
)

// MaxDMA is the largest DMA memory object.
const MaxDMA = 4 << 20

// MSI is what SysDevMSI reports: the device signals the interrupt by
// writing Data to Addr (PCI Local Bus 3.0 §6.8).
type MSI struct {
	Addr uint64
	Data uint32
	_    uint32
}

// DevInfo is what SysDevInfo reports.
type DevInfo struct {
	// The PCI Express configuration window (ECAM) of segment 0, from
	// ACPI's MCFG; ECAMBase 0 if there is none.
	ECAMBase     uint64
	ECAMStartBus uint8
	ECAMEndBus   uint8
	_            [2]uint8
	Flags        uint32 // DevDMAIsolated
}

// DevInfo flags.
const (
	DevDMAIsolated = 1 << 0 // an IOMMU confines each device's DMA
)

// Native system calls for the file namespace (docs/filesystems.md). Each
// process has a mount namespace, shared with its parent when it is
// created (as on Linux) unless it unshares it (unshare(CLONE_NEWNS)).
const (
	// SysMount: (target *byte, endpoint, flags, source *byte) -> 0.
	// Without MountBind, the server of the file protocol behind endpoint
	// (a capability with RightWrite) is mounted at target, an absolute
	// path; the kernel forwards every file call below target to it. With
	// MountBind, endpoint is ignored and the directory source, as the
	// caller's namespace resolves it, is mounted at target as well.
	// MountReplace gives the mount at target a new server (a restarted
	// one) in every process that has it: only the process that mounted it
	// (or the first process) may. A mount covers what was at target
	// before; mounting again at the same target replaces the caller's
	// entry.
	SysMount = NativeBase + 0x90
	// SysUnmount: (target *byte, flags) -> 0: removes the caller's mount
	// at target (EINVAL if none; "/" cannot be removed). With
	// MountDevice, detaches the device file target instead.
	SysUnmount = NativeBase + 0x91
	// SysMounter: (endpoint) -> 0: the first process names the server
	// of the mount protocol (valence.dev/servers/fs/mountproto) that
	// mount(2) asks for a file server on a device. EPERM for any other
	// process.
	SysMounter = NativeBase + 0x92
	// SysNetServer: (endpoint) -> 0: the first process names the server
	// of the socket protocol (valence.dev/servers/net/sockproto, netd)
	// that AF_INET and AF_INET6 socket calls are forwarded to; naming
	// another replaces it (a restarted netd). EPERM for any other
	// process.
	SysNetServer = NativeBase + 0x93
)

// SysMount flags.
const (
	MountBind    = 1 // mount a directory of the caller's namespace, not an endpoint
	MountReplace = 2 // give an existing mount a new server, everywhere
	// MountDevice attaches the server at target, "/dev/NAME", as a device
	// file in every namespace's /dev: the server's root is the file (a
	// block device served by bootstrap, as a rule). Only the first
	// process may; with MountReplace it gives an attached device a new
	// server.
	MountDevice = 4
)
