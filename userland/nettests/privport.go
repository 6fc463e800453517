package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// privileged-port: binding a port below 1024 needs CAP_NET_BIND_SERVICE
// (capabilities(7)). Root has it; a process that gives it up with
// capset(2) gets EACCES, can take it back while it is still permitted,
// and cannot once it dropped it from its permitted set. The checks run in
// a child (this program again), on one locked thread, so that they hold
// on Linux too, where capabilities belong to threads, and leave the
// parent's own capabilities alone.

func init() {
	if os.Getenv("NETTESTS_CHILD") == "privileged-port" {
		if err := privChild(); err != nil {
			fmt.Printf("nettests: privileged-port child: %v\n", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

func testPrivilegedPort() error {
	cmd := exec.Command("/proc/self/exe") // the kernel follows the link out of /proc

	cmd.Env = append(os.Environ(), "NETTESTS_CHILD=privileged-port")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("the child: %v", err)
	}
	// The parent keeps its capability.
	if err := bindPort(unix.SOCK_STREAM, 80); err != nil {
		return fmt.Errorf("the parent binding port 80 after the child dropped its capability: %v", err)
	}
	return nil
}

// capData is one of linux_capability_version_3's two data words.
type capData struct{ effective, permitted, inheritable uint32 }

const capVersion3 = 0x20080522

func capget() ([2]capData, error) {
	hdr := [2]uint32{capVersion3, 0}
	var d [2]capData
	_, _, e := unix.RawSyscall(unix.SYS_CAPGET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&d)), 0)
	if e != 0 {
		return d, e
	}
	return d, nil
}

func capset(version uint32, pid int32, d [2]capData) ([2]uint32, error) {
	hdr := [2]uint32{version, uint32(pid)}
	_, _, e := unix.RawSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&d)), 0)
	if e != 0 {
		return hdr, e
	}
	return hdr, nil
}

// bindPort binds a new socket of type typ to 127.0.0.1:port and closes it.
func bindPort(typ int, port int) error {
	fd, err := unix.Socket(unix.AF_INET, typ, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Bind(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}})
}

const netBindService = 10 // CAP_NET_BIND_SERVICE

func privChild() error {
	runtime.LockOSThread()
	d, err := capget()
	if err != nil {
		return fmt.Errorf("capget: %v", err)
	}
	if d[0].effective&(1<<netBindService) == 0 {
		return fmt.Errorf("root starts without CAP_NET_BIND_SERVICE: %+v", d)
	}
	if err := bindPort(unix.SOCK_STREAM, 80); err != nil {
		return fmt.Errorf("root binding port 80: %v", err)
	}
	drop := d
	drop[0].effective &^= 1 << netBindService
	if _, err := capset(capVersion3, 0, drop); err != nil {
		return fmt.Errorf("capset dropping CAP_NET_BIND_SERVICE from the effective set: %v", err)
	}
	for _, c := range []struct {
		typ  int
		port int
		want error
	}{
		{unix.SOCK_STREAM, 81, unix.EACCES},
		{unix.SOCK_DGRAM, 53, unix.EACCES},
		{unix.SOCK_STREAM, 1023, unix.EACCES},
		{unix.SOCK_STREAM, 1024, nil},
		{unix.SOCK_STREAM, 0, nil}, // an ephemeral port
	} {
		if err := bindPort(c.typ, c.port); !errors.Is(err, c.want) && !(err == nil && c.want == nil) {
			return fmt.Errorf("without the capability, binding port %d (type %d): %v, want %v", c.port, c.typ, err, c.want)
		}
	}
	if _, err := capset(capVersion3, 0, d); err != nil {
		return fmt.Errorf("capset raising CAP_NET_BIND_SERVICE again (still permitted): %v", err)
	}
	if err := bindPort(unix.SOCK_STREAM, 82); err != nil {
		return fmt.Errorf("binding port 82 with the capability back: %v", err)
	}
	// Bad headers: an unknown version is EINVAL and the preferred one is
	// written back; another process's sets are not the caller's to set.
	if hdr, err := capset(0x12345678, 0, d); !errors.Is(err, unix.EINVAL) || hdr[0] != capVersion3 {
		return fmt.Errorf("capset with version 0x12345678: %v, version %#x back; want EINVAL and %#x", err, hdr[0], capVersion3)
	}
	if _, err := capset(capVersion3, int32(os.Getppid()), d); !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("capset of the parent: %v, want EPERM", err)
	}
	// Gone from the permitted set, it cannot come back.
	gone := drop
	gone[0].permitted &^= 1 << netBindService
	if _, err := capset(capVersion3, 0, gone); err != nil {
		return fmt.Errorf("capset dropping CAP_NET_BIND_SERVICE from the permitted set: %v", err)
	}
	if _, err := capset(capVersion3, 0, d); !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("capset raising a capability no longer permitted: %v, want EPERM", err)
	}
	now, err := capget()
	if err != nil || now != gone {
		return fmt.Errorf("capget after the changes: %+v %v, want %+v", now, err, gone)
	}
	if err := bindPort(unix.SOCK_STREAM, 83); !errors.Is(err, unix.EACCES) {
		return fmt.Errorf("binding port 83 with the capability gone: %v, want EACCES", err)
	}
	fmt.Println("nettests: privileged-port: binding ports below 1024 needs CAP_NET_BIND_SERVICE; capset gives it up and takes it back as Linux's does")
	return nil
}
