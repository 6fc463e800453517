package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"valence.dev/ipc"
	"valence.dev/ipc/codec"
	"valence.dev/libos"
	fp "valence.dev/servers/fs/fileproto"
)

// mount-abuse: the mount calls and the kernel's forwarding, attacked.
// A lying file server (in this process) mounted at /tmp answers with
// reads longer than their data, a directory stream that never ends or
// advances, and every path a directory; the kernel must clamp, stay
// bounded and answer every call. Then: bad pointers and flags, a server
// that speaks no file protocol, the mount-table limit, unmounting "/",
// and a child replacing its parent's server.

func init() {
	addTest("mount-abuse", testMountAbuse)
	addRole("mount-replace", roleMountReplace)
}

const liarTarget = "/tmp"

// serveLiar answers calls on ep until it dies. With protocol false it
// answers everything with ENOSYS.
func serveLiar(ep ipc.Handle, protocol bool) {
	var m, rep ipc.Message
	for {
		tok, err := libos.Recv(ep, &m)
		if err != nil {
			return
		}
		rep = ipc.Message{}
		if tok == 0 {
			continue
		}
		var reply any
		switch label := m.Label; {
		case !protocol:
		case label == fp.StatFS.Label:
			reply = &fp.Statfs{Type: fp.Magic, Bsize: 4096, Blocks: 1, Namelen: 255}
		case label == fp.StatAt.Label || label == fp.Fstat.Label:
			// Everything is a directory, even what was opened as a file.
			reply = &fp.Stat{Ino: 2, Mode: fp.S_IFDIR | 0o755, Nlink: 2, Size: 100}
		case label == fp.Open.Label:
			var req fp.OpenRequest
			codec.Unmarshal(&m, &req)
			mode := uint32(fp.S_IFREG | 0o644)
			if req.At.Path == "dir" {
				mode = fp.S_IFDIR | 0o755
			}
			reply = &fp.OpenReply{Fid: 7, Stat: fp.Stat{Ino: 3, Mode: mode, Size: 100}}
		case label == fp.Read.Label:
			var req fp.ReadRequest
			codec.Unmarshal(&m, &req)
			r := &fp.ReadReply{}
			if req.Off == 0 {
				r.N, r.Data = 1<<30, []byte("ten bytes!") // claims far more than it sends
			}
			reply = r
		case label == fp.Getdents.Label:
			// Never advances, never ends.
			reply = &fp.GetdentsReply{Entries: []fp.Dirent{{Ino: 5, Off: 1, Type: fp.DT_REG, Name: "again"}}}
		case label == fp.Close.Label:
			reply = &fp.Empty{}
		}
		if reply == nil {
			rep.Status = int32(syscall.ENOSYS)
		} else if err := codec.Marshal(reply, &rep); err != nil {
			rep.Status = int32(syscall.EIO)
		}
		libos.Reply(ep, tok, &rep)
	}
}

// liar makes an endpoint served by serveLiar and a client capability on
// it.
func liar(protocol bool) (client ipc.Handle, err error) {
	ep, err := libos.NewEndpoint()
	if err != nil {
		return 0, err
	}
	for range 2 {
		go serveLiar(ep, protocol)
	}
	return libos.Dup(ep, ipc.RightWrite, 0)
}

func testMountAbuse() error {
	// Bad arguments.
	if _, _, e := syscall.Syscall6(ipc.SysMount, 1, 0, 0, 0, 0, 0); e != syscall.EFAULT {
		return fmt.Errorf("mount with a bad target pointer: %v, want EFAULT", e)
	}
	if err := libos.Mount(liarTarget, 0, 4); !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("mount with unknown flags: %v, want EINVAL", err)
	}
	n, err := libos.NewNotification()
	if err != nil {
		return err
	}
	if err := libos.Mount(liarTarget, n, 0); !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("mounting a notification: %v, want EINVAL", err)
	}
	if err := libos.Mount("/etc/motd", n, 0); !errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("mounting on a file: %v, want ENOTDIR", err)
	}
	mute, err := liar(false)
	if err != nil {
		return err
	}
	if err := libos.Mount(liarTarget, mute, 0); !errors.Is(err, syscall.ENOSYS) {
		return fmt.Errorf("mounting a server of no file protocol: %v, want its ENOSYS", err)
	}
	if err := libos.Unmount("/"); !errors.Is(err, syscall.EBUSY) {
		return fmt.Errorf("unmounting /: %v, want EBUSY", err)
	}
	if err := libos.Unmount("/no/such/mount"); !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("unmounting what is not mounted: %v, want EINVAL", err)
	}

	// The lying server.
	h, err := liar(true)
	if err != nil {
		return err
	}
	if err := libos.Mount(liarTarget, h, 0); err != nil {
		return err
	}
	defer libos.Unmount(liarTarget)
	f, err := os.Open(liarTarget + "/file")
	if err != nil {
		return err
	}
	buf := make([]byte, 64<<10)
	got, err := f.ReadAt(buf, 0)
	f.Close()
	if got != 10 || string(buf[:got]) != "ten bytes!" {
		return fmt.Errorf("a read the server overstated: %d bytes %q (%v), want the 10 it sent", got, buf[:got], err)
	}
	d, err := os.Open(liarTarget + "/dir")
	if err != nil {
		return err
	}
	t0 := time.Now()
	for i := 0; i < 100; i++ {
		if _, err := d.ReadDir(1); err != nil {
			d.Close()
			return fmt.Errorf("reading an endless directory, call %d: %v", i, err)
		}
	}
	// seekdir to a position the stream never reaches: bounded, EIO.
	if _, err := syscall.Seek(int(d.Fd()), 100, 0); err != nil {
		d.Close()
		return err
	}
	if _, err := syscall.Getdents(int(d.Fd()), buf); !errors.Is(err, syscall.EIO) {
		d.Close()
		return fmt.Errorf("seeking an endless directory past its stream: %v, want EIO", err)
	}
	d.Close()
	if time.Since(t0) > time.Minute {
		return fmt.Errorf("100 reads of an endless directory took %v", time.Since(t0))
	}

	// The mount table's limit: the liar says every path is a directory.
	var full error
	for i := 0; i < 300 && full == nil; i++ {
		full = libos.Mount(liarTarget+"/m"+strconv.Itoa(i), h, 0)
	}
	if !errors.Is(full, syscall.ENOSPC) {
		return fmt.Errorf("300 mounts: %v, want ENOSPC at the limit", full)
	}
	for i := 0; i < 300; i++ {
		libos.Unmount(liarTarget + "/m" + strconv.Itoa(i))
	}

	// A child inherits the mount but may not replace its server.
	if out, err := omRun(nil, "mount-replace"); err != nil {
		return err
	} else if out != "EPERM" {
		return fmt.Errorf("a child replacing its parent's server: %s, want EPERM", out)
	}
	return nil
}

// roleMountReplace tries to give the mount at liarTarget a server of
// its own, and prints the errno.
func roleMountReplace([]string) int {
	ep, err := libos.NewEndpoint()
	if err != nil {
		fmt.Println(err)
		return 1
	}
	err = libos.Mount(liarTarget, ep, ipc.MountReplace)
	switch {
	case errors.Is(err, syscall.EPERM):
		fmt.Println("EPERM")
	default:
		fmt.Println("replace:", err)
	}
	return 0
}
