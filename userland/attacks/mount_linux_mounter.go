package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"valence.dev/ipc"
	"valence.dev/ipc/codec"
	"valence.dev/ipc/rpc"
	"valence.dev/libos"
	fp "valence.dev/servers/fs/fileproto"
	"valence.dev/servers/fs/mountproto"
)

// The lying servers of linux-mount-abuse: a block device whose file
// server answers just enough of the file protocol (its root is a block
// device, statfs works), and a mounter that answers each Mount as the
// test sets it to, and records every request.

// lmFSBadge marks the block liar's clients that the mounter gives the
// kernel: to them the root is a directory, as a filesystem's is. To
// any other client it is a block device, as a device file's is.
const lmFSBadge = 2

// serveBlockLiar serves a device file on ep until ep dies: its root is
// a block device (a directory for lmFSBadge); any other name is a
// regular file.
func serveBlockLiar(ep ipc.Handle) {
	var m, rep ipc.Message
	stat := func(path string) *fp.Stat {
		switch {
		case path == "" && m.Badge == lmFSBadge:
			return &fp.Stat{Ino: 1, Mode: fp.S_IFDIR | 0o755, Nlink: 2}
		case path == "":
			return &fp.Stat{Ino: 2, Mode: syscall.S_IFBLK | 0o600, Nlink: 1, Rdev: 0xfe00}
		}
		return &fp.Stat{Ino: 3, Mode: fp.S_IFREG | 0o644, Nlink: 1}
	}
	for {
		tok, err := libos.Recv(ep, &m)
		if err != nil {
			return
		}
		if tok == 0 {
			continue
		}
		rep = ipc.Message{}
		var reply any
		switch m.Label {
		case fp.StatFS.Label:
			reply = &fp.Statfs{Type: fp.Magic, Bsize: 4096, Blocks: 1, Namelen: 255}
		case fp.StatAt.Label:
			var req fp.StatRequest
			codec.Unmarshal(&m, &req)
			reply = stat(req.At.Path)
		case fp.Fstat.Label:
			reply = stat("file")
		case fp.Open.Label:
			var req fp.OpenRequest
			codec.Unmarshal(&m, &req)
			reply = &fp.OpenReply{Fid: 9, Stat: *stat(req.At.Path)}
		case fp.Close.Label, fp.Sync.Label, fp.Fsync.Label, fp.Access.Label, fp.Forget.Label:
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

// blockLiar makes an endpoint served by serveBlockLiar.
func blockLiar() (ipc.Handle, error) {
	ep, err := libos.NewEndpoint()
	if err != nil {
		return 0, err
	}
	for range 2 {
		go serveBlockLiar(ep)
	}
	return ep, nil
}

// How the lying mounter answers the next Mount.
type lmAnswer int

const (
	lmRefuse       lmAnswer = iota // an rpc error, EINVAL, with a 3000-byte message
	lmNoServer                     // a reply with Server 0 and no handle
	lmStrayHandle                  // Server 0, but a handle in the header
	lmMemoryServer                 // a memory object as the server
	lmMuteServer                   // an endpoint that answers ENOSYS to everything
	lmNoAnswer                     // no reply at all
	lmGoodServer                   // the block liar's server
)

// lmRefusal is the message of lmRefuse: longer than a console line.
var lmRefusal = "lying mounter: " + strings.Repeat("m", 2985)

// lmMounter is the lying mounter.
type lmMounter struct {
	ep         ipc.Handle // the endpoint it serves
	good, mute ipc.Handle // the servers it answers with (their endpoints, to copy clients from)

	mu       sync.Mutex
	answer   lmAnswer
	requests []mountproto.MountRequest
	unmounts []uint64
	held     chan uint64 // tokens of Mounts left unanswered
}

// newLMMounter serves a lying mounter and makes it the kernel's.
func newLMMounter() (*lmMounter, error) {
	good, err := blockLiar()
	if err != nil {
		return nil, err
	}
	mute, err := libos.NewEndpoint()
	if err != nil {
		return nil, err
	}
	go serveLiar(mute, false)
	fm := &lmMounter{good: good, mute: mute, held: make(chan uint64, 4)}
	if fm.ep, err = libos.NewEndpoint(); err != nil {
		return nil, err
	}
	for range 2 {
		go fm.serve(fm.ep)
	}
	client, err := libos.Dup(fm.ep, ipc.RightWrite, 0)
	if err != nil {
		return nil, err
	}
	if err := libos.SetMounter(client); err != nil {
		return nil, err
	}
	libos.Close(client) // the kernel holds it now
	return fm, nil
}

func (fm *lmMounter) serve(ep ipc.Handle) {
	var m, rep ipc.Message
	for {
		tok, err := libos.Recv(ep, &m)
		if err != nil {
			return
		}
		if tok == 0 {
			continue
		}
		rep = ipc.Message{}
		switch m.Label {
		case mountproto.Mount.Label:
			var req mountproto.MountRequest
			if err := codec.Unmarshal(&m, &req); err != nil {
				rep.Status = int32(syscall.EBADMSG)
			} else if !fm.mount(tok, req, &rep) {
				continue // held
			}
		case mountproto.Unmount.Label:
			var req mountproto.UnmountRequest
			if err := codec.Unmarshal(&m, &req); err != nil {
				rep.Status = int32(syscall.EBADMSG)
				break
			}
			fm.mu.Lock()
			fm.unmounts = append(fm.unmounts, req.ID)
			fm.mu.Unlock()
			codec.Marshal(&mountproto.Empty{}, &rep)
		default:
			rep.Status = int32(syscall.ENOSYS)
		}
		libos.Reply(ep, tok, &rep)
	}
}

// mount answers a Mount into rep as fm.answer says, or holds the call
// (and returns false).
func (fm *lmMounter) mount(tok uint64, req mountproto.MountRequest, rep *ipc.Message) bool {
	fm.mu.Lock()
	fm.requests = append(fm.requests, req)
	id := uint64(100 + len(fm.requests))
	answer := fm.answer
	fm.mu.Unlock()
	r := mountproto.MountReply{ID: id, Source: req.Source}
	var err error
	switch answer {
	case lmRefuse:
		codec.Marshal(&rpc.Error{Code: int32(syscall.EINVAL), Msg: lmRefusal}, rep)
		rep.Status = int32(syscall.EINVAL)
		return true
	case lmNoAnswer:
		fm.held <- tok
		return false
	case lmMemoryServer:
		r.Server, err = libos.NewMemory(4096)
	case lmMuteServer:
		r.Server, err = libos.Dup(fm.mute, ipc.RightWrite|ipc.RightGrant, 0)
	case lmGoodServer:
		r.Server, err = libos.Dup(fm.good, ipc.RightWrite|ipc.RightGrant, lmFSBadge)
	}
	if err == nil {
		err = codec.Marshal(&r, rep)
	}
	if err != nil {
		rep.Status = int32(syscall.ENOMEM)
		return true
	}
	if answer == lmStrayHandle {
		h, err := libos.Dup(fm.good, ipc.RightWrite|ipc.RightGrant, lmFSBadge)
		if err == nil {
			rep.NHandles, rep.Handles[0] = 1, h
		}
	}
	return true
}

// next sets the answer to the next Mount and returns the ID it will
// carry.
func (fm *lmMounter) next(a lmAnswer) uint64 {
	fm.mu.Lock()
	defer fm.mu.Unlock()
	fm.answer = a
	return uint64(100 + len(fm.requests) + 1)
}

// unmounted returns how many times the mounter was told mount id is
// gone.
func (fm *lmMounter) unmounted(id uint64) int {
	fm.mu.Lock()
	defer fm.mu.Unlock()
	n := 0
	for _, u := range fm.unmounts {
		if u == id {
			n++
		}
	}
	return n
}

// lastRequest returns the last Mount request.
func (fm *lmMounter) lastRequest() mountproto.MountRequest {
	fm.mu.Lock()
	defer fm.mu.Unlock()
	if len(fm.requests) == 0 {
		return mountproto.MountRequest{}
	}
	return fm.requests[len(fm.requests)-1]
}

// lmMountTarget is where the lying mounter's servers are mounted.
const lmMountTarget = "/tmp"

// lmMounterChecks attacks mount(2) through a lying mounter, one answer
// after the other.
func lmMounterChecks(c *lmChecks) (*lmMounter, error) {
	fm, err := newLMMounter()
	if err != nil {
		return nil, fmt.Errorf("serving the lying mounter: %w", err)
	}
	// (a) A refusal with a message longer than a console line.
	fm.next(lmRefuse)
	e := lmErrno(syscall.Mount(lmDevice, lmMountTarget, "valfs", 0, "lm=a"))
	c.expect("mount(2) refused by the mounter (EINVAL, 3000-byte message)", e, syscall.EINVAL)
	req := fm.lastRequest()
	if req.Source != lmDevice || req.FSType != "valfs" || req.Data != "lm=a" {
		c.failf("the mounter was asked %+v, want source %s, fstype valfs, data lm=a", req, lmDevice)
	}
	// (b)-(d) Replies the kernel cannot mount: it must refuse and give
	// the mount back (Unmount) when it could read its ID.
	cases := []struct {
		what      string
		answer    lmAnswer
		want      syscall.Errno
		givesBack bool
	}{
		{"a reply without a server", lmNoServer, syscall.EIO, true},
		{"a reply with Server 0 and a handle in the header", lmStrayHandle, syscall.EIO, false},
		{"a memory object as the server", lmMemoryServer, syscall.EIO, true},
		{"a server that answers ENOSYS", lmMuteServer, syscall.ENOSYS, true},
	}
	for _, tc := range cases {
		id := fm.next(tc.answer)
		c.expect("mount(2) answered with "+tc.what, lmMountFS(lmDevice, lmMountTarget, "valfs"), tc.want)
		if n := fm.unmounted(id); tc.givesBack && n != 1 {
			c.failf("mount(2) answered with %s: the mounter was told Unmount(%d) %d times, want once", tc.what, id, n)
		}
	}
	if lmMounted(lmMountTarget) != "" {
		c.failf("%s is mounted after mount(2) failed every time", lmMountTarget)
	}
	lmUnanswered(c, fm)
	lmGoodMount(c, fm)
	lmDetachedMount(c, fm)
	lmCoveredMount(c, fm)
	lmNamespaceExit(c, fm)
	return fm, nil
}

// lmUnanswered runs mount(2) in a child that the mounter never answers,
// and kills the child: it must die promptly.
func lmUnanswered(c *lmChecks, fm *lmMounter) {
	fm.next(lmNoAnswer)
	cmd := exec.Command(self(), "role", "lm-hang")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		c.failf("starting lm-hang: %v", err)
		return
	}
	var tok uint64
	select {
	case tok = <-fm.held:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		c.failf("the child's mount(2) never reached the mounter in 60 s")
		return
	}
	time.Sleep(time.Second)
	cmd.Process.Kill()
	done := make(chan error, 1)
	t0 := time.Now()
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
		if d := time.Since(t0); d > 5*time.Second {
			c.failf("a child killed in mount(2) waiting for the mounter took %v to die", d)
		}
	case <-time.After(30 * time.Second):
		c.failf("a child killed in mount(2) waiting for the mounter did not die in 30 s")
		return
	}
	// The answer comes late, with a handle: the kernel must drop it.
	var rep ipc.Message
	h, err := libos.Dup(fm.good, ipc.RightWrite|ipc.RightGrant, lmFSBadge)
	if err == nil {
		codec.Marshal(&mountproto.MountReply{ID: 999, Server: h}, &rep)
		err = libos.Reply(fm.ep, tok, &rep)
		fmt.Printf("attacks: linux-mount-abuse: a late answer to a dead caller's mount: %v\n", err)
	}
	if lmMounted(lmMountTarget) != "" {
		c.failf("%s is mounted after the late answer to a killed mount(2)", lmMountTarget)
	}
}

// roleLMHang mounts the lying device; the mounter never answers.
func roleLMHang([]string) int {
	e := lmMountFS(lmDevice, lmMountTarget, "valfs")
	fmt.Printf("lm-hang: mount(2) returned %s\n", errnoName(e))
	return 0
}

// lmGoodMount mounts the block liar's server through the mounter, and
// unmounts it: the mounter hears Unmount once, and only once the mount
// is gone.
func lmGoodMount(c *lmChecks, fm *lmMounter) {
	id := fm.next(lmGoodServer)
	if e := lmMountFS(lmDevice, lmMountTarget, "valfs"); e != 0 {
		c.failf("mount(2) of %s answered with a good server (after an unanswered one): %s", lmDevice, errnoName(e))
		return
	}
	if line := lmMounted(lmMountTarget); !strings.HasPrefix(line, lmDevice+" "+lmMountTarget+" valfs ") {
		c.failf("/proc/self/mounts says %q for %s, want %s valfs", line, lmMountTarget, lmDevice)
	}
	f, err := os.Open(lmMountTarget + "/file")
	if err != nil {
		c.failf("opening a file on the mounted liar: %v", err)
	} else {
		c.expect("umount2 with a file open on the mount", lmUmount2(lmMountTarget, 0), syscall.EBUSY)
		f.Close()
	}
	if n := fm.unmounted(id); n != 0 {
		c.failf("the mounter was told Unmount(%d) while it was still mounted", id)
	}
	var e syscall.Errno
	for range 20 { // the last close may reach the server just after close(2)
		if e = lmUmount2(lmMountTarget, 0); e != syscall.EBUSY {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.expect("umount2 of the mounter's mount", e, 0)
	time.Sleep(200 * time.Millisecond)
	if n := fm.unmounted(id); n != 1 {
		c.failf("after umount2 the mounter was told Unmount(%d) %d times, want once", id, n)
	}
	c.expect("umount2 of it again", lmUmount2(lmMountTarget, 0), syscall.EINVAL)
	if n := fm.unmounted(id); n != 1 {
		c.failf("after a second umount2 the mounter was told Unmount(%d) %d times, want once", id, n)
	}
}

// lmDetachedMount unmounts the mounter's mount lazily (MNT_DETACH)
// while a file is open on it: the file must keep working until it is
// closed, so the mounter (which stops the server at Unmount) must not
// be told before.
func lmDetachedMount(c *lmChecks, fm *lmMounter) {
	id := fm.next(lmGoodServer)
	if e := lmMountFS(lmDevice, lmMountTarget, "valfs"); e != 0 {
		c.failf("mount(2) of %s: %s", lmDevice, errnoName(e))
		return
	}
	f, err := os.Open(lmMountTarget + "/file")
	if err != nil {
		c.failf("opening a file on the mounted liar: %v", err)
		lmUmount2(lmMountTarget, 0)
		return
	}
	c.expect("umount2(MNT_DETACH) with a file open on the mount", lmUmount2(lmMountTarget, syscall.MNT_DETACH), 0)
	early := fm.unmounted(id)
	f.Close()
	if early != 0 {
		c.failf("umount2(MNT_DETACH) of the mounter's mount %d with a file still open on it: the mounter was told "+
			"Unmount at once (so it stops the server under the open file), want it told at the last close", id)
		return
	}
	deadline := time.Now().Add(5 * time.Second)
	for fm.unmounted(id) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if n := fm.unmounted(id); n != 1 {
		c.failf("umount2(MNT_DETACH) of the mounter's mount %d, then the last close: the mounter was told Unmount(%d) %d times, want once", id, id, n)
	}
}

// lmCoveredMount mounts over the mounter's mount at the same target. A
// mount the kernel drops that way must still reach the mounter as
// Unmount (or come back when what covered it goes, as on Linux):
// otherwise its server runs forever.
func lmCoveredMount(c *lmChecks, fm *lmMounter) {
	id := fm.next(lmGoodServer)
	if e := lmMountFS(lmDevice, lmMountTarget, "valfs"); e != 0 {
		c.failf("mount(2) of %s: %s", lmDevice, errnoName(e))
		return
	}
	e := lmErrno(syscall.Mount("/etc", lmMountTarget, "", syscall.MS_BIND, ""))
	if e == 0 {
		c.expect("umount2 of the bind mount over the mounter's", lmUmount2(lmMountTarget, 0), 0)
	}
	back := strings.Contains(lmMounted(lmMountTarget), " valfs ")
	if !back && fm.unmounted(id) != 1 {
		c.failf("a bind mount (%s) over the mounter's mount %d at %s, then umount2: the mount is gone, "+
			"and the mounter was told Unmount(%d) %d times, want once", errnoName(e), id, lmMountTarget, id, fm.unmounted(id))
	}
	for range 3 {
		if lmMounted(lmMountTarget) == "" {
			break
		}
		lmUmount2(lmMountTarget, 0)
	}
}

// lmNamespaceExit mounts through the mounter, lets a child unshare its
// namespace (so it has the mount too), unmounts it here, then ends the
// child: the last namespace with the mount is gone, so the mounter must
// be told.
func lmNamespaceExit(c *lmChecks, fm *lmMounter) {
	id := fm.next(lmGoodServer)
	if e := lmMountFS(lmDevice, lmMountTarget, "valfs"); e != 0 {
		c.failf("mount(2) of %s: %s", lmDevice, errnoName(e))
		return
	}
	defer lmUmount2(lmMountTarget, 0)
	cmd := exec.Command(self(), "role", "lm-keep-ns")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		c.failf("%v", err)
		return
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		c.failf("%v", err)
		return
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		c.failf("starting lm-keep-ns: %v", err)
		return
	}
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "ready" {
		c.failf("lm-keep-ns said %q, want ready", sc.Text())
		stdin.Close()
		cmd.Wait()
		return
	}
	c.expect("umount2 of a mount a child's namespace still has", lmUmount2(lmMountTarget, 0), 0)
	if n := fm.unmounted(id); n != 0 {
		c.failf("the mounter was told Unmount(%d) while a child's namespace still had the mount", id)
	}
	stdin.Close()
	for sc.Scan() {
	}
	if err := cmd.Wait(); err != nil {
		c.failf("lm-keep-ns: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for fm.unmounted(id) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if n := fm.unmounted(id); n != 1 {
		c.failf("the last namespace with the mounter's mount %d ended with its process (lm-keep-ns, after unshare): "+
			"the mounter was told Unmount(%d) %d times in 5 s, want once", id, id, n)
	}
}

// roleLMKeepNS takes a namespace of its own and keeps it until its
// standard input ends.
func roleLMKeepNS([]string) int {
	if _, _, e := syscall.RawSyscall(syscall.SYS_UNSHARE, syscall.CLONE_NEWNS, 0, 0); e != 0 {
		fmt.Printf("unshare: %v\n", e)
		return 1
	}
	if !strings.Contains(lmMounted(lmMountTarget), " valfs ") {
		fmt.Println("the unshared namespace lacks the mount")
		return 1
	}
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\n')
	return 0
}

// lmMounted returns the /proc/self/mounts line of the mount at target,
// or "".
func lmMounted(target string) string {
	mounts, _ := lmMounts()
	for _, l := range mounts {
		if f := strings.Fields(l); len(f) >= 2 && f[1] == target {
			return l
		}
	}
	return ""
}

// lmMounts reads /proc/self/mounts: every line must have the six
// fields of fstab(5).
func lmMounts() ([]string, error) {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if i := slices.IndexFunc(lines, func(l string) bool { return len(strings.Fields(l)) != 6 }); i >= 0 {
		return lines, fmt.Errorf("/proc/self/mounts line %d is %q: not six fields", i+1, lines[i])
	}
	return lines, nil
}
