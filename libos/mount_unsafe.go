package libos

import (
	"fmt"
	"syscall"
	"unsafe"

	"valence.dev/ipc"
)

// Mount mounts the file server behind endpoint (a client capability on
// a server of the file protocol) at target, an absolute path, in the
// calling process's namespace; its children made from now on inherit
// it. flags may hold ipc.MountReplace to give the existing mount at
// target a new server, in every process that has it.
func Mount(target string, endpoint ipc.Handle, flags uint32) error {
	t := append([]byte(target), 0)
	_, _, e := syscall.Syscall6(ipc.SysMount, uintptr(unsafe.Pointer(&t[0])), uintptr(endpoint), uintptr(flags), 0, 0, 0)
	if e != 0 {
		return fmt.Errorf("mount %s: %w", target, e)
	}
	return nil
}

// Bind mounts the directory source (as the caller's namespace resolves
// it now) at target too, as Linux's mount --bind.
func Bind(source, target string) error {
	s := append([]byte(source), 0)
	t := append([]byte(target), 0)
	_, _, e := syscall.Syscall6(ipc.SysMount, uintptr(unsafe.Pointer(&t[0])), 0, ipc.MountBind, uintptr(unsafe.Pointer(&s[0])), 0, 0)
	if e != 0 {
		return fmt.Errorf("bind %s at %s: %w", source, target, e)
	}
	return nil
}

// Unmount removes the calling process's mount at target.
func Unmount(target string) error {
	t := append([]byte(target), 0)
	_, _, e := syscall.Syscall(ipc.SysUnmount, uintptr(unsafe.Pointer(&t[0])), 0, 0)
	if e != 0 {
		return fmt.Errorf("unmount %s: %w", target, e)
	}
	return nil
}

// AttachDevice makes the server behind endpoint (a file server whose
// root is a device file) the device file target, "/dev/NAME", in every
// namespace (ipc.MountDevice); with replace, an attached device gets a
// new server. Only the first process may.
func AttachDevice(target string, endpoint ipc.Handle, replace bool) error {
	flags := uint32(ipc.MountDevice)
	if replace {
		flags |= ipc.MountReplace
	}
	t := append([]byte(target), 0)
	_, _, e := syscall.Syscall6(ipc.SysMount, uintptr(unsafe.Pointer(&t[0])), uintptr(endpoint), uintptr(flags), 0, 0, 0)
	if e != 0 {
		return fmt.Errorf("attach device %s: %w", target, e)
	}
	return nil
}

// DetachDevice removes the device file target attached with
// AttachDevice.
func DetachDevice(target string) error {
	t := append([]byte(target), 0)
	_, _, e := syscall.Syscall(ipc.SysUnmount, uintptr(unsafe.Pointer(&t[0])), ipc.MountDevice, 0)
	if e != 0 {
		return fmt.Errorf("detach device %s: %w", target, e)
	}
	return nil
}

// SetMounter makes the server behind endpoint the mounter: the server of
// the mount protocol (valence.dev/servers/fs/mountproto) the kernel asks
// for a file server when a program calls mount(2) on a device. Only the
// first process may.
func SetMounter(endpoint ipc.Handle) error {
	_, _, e := syscall.Syscall(ipc.SysMounter, uintptr(endpoint), 0, 0)
	if e != 0 {
		return fmt.Errorf("set mounter: %w", e)
	}
	return nil
}

// SetNetServer makes the server behind endpoint (netd, a server of the
// socket protocol valence.dev/servers/net/sockproto) the one the kernel
// forwards AF_INET and AF_INET6 socket calls to; a later call replaces
// it (a restarted netd). Only the first process may.
func SetNetServer(endpoint ipc.Handle) error {
	_, _, e := syscall.Syscall(ipc.SysNetServer, uintptr(endpoint), 0, 0)
	if e != 0 {
		return fmt.Errorf("set network server: %w", e)
	}
	return nil
}
