package main

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"valence.dev/userland/init/control"
)

// The control socket: svc connects to control.SocketName, an abstract
// AF_UNIX stream name, sends one request and reads the answer
// (valence.dev/userland/init/control). Any process may connect, so
// everything read is hostile until checked: a frame's length is bounded
// before it is read, the codec accepts only a canonical encoding, every
// field is bounded, each connection has a deadline, and at most
// maxControlConns are served at once (more are closed at once). The
// caller's credentials come from the kernel (SO_PEERCRED), never from
// the request: an operation that changes a service needs uid 0.

const (
	maxControlConns = 8
	controlDeadline = 10 * time.Second
	loopWait        = 5 * time.Second // for the loop's answer
	driverListWait  = 2 * time.Second // for pcid's List before svc list
)

// serveControl listens on the control socket; a failure leaves svc
// unable to reach init, and says so.
func (s *supervisor) serveControl() {
	l, err := net.Listen("unix", control.SocketName)
	if err != nil {
		logf("no control socket, svc will not work: %v", err)
		return
	}
	slots := make(chan struct{}, maxControlConns)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				time.Sleep(100 * time.Millisecond) // EMFILE and the like: let it pass
				continue
			}
			select {
			case slots <- struct{}{}:
				go func() {
					s.serveConn(c)
					<-slots
				}()
			default:
				c.Close()
			}
		}
	}()
}

// serveConn answers one request on c.
func (s *supervisor) serveConn(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(controlDeadline))
	var req control.Request
	if err := control.ReadFrame(c, &req); err != nil {
		e := syscall.EINVAL
		if errors.Is(err, control.ErrVersion) {
			e = syscall.EPROTONOSUPPORT
		}
		writeAll(c, deny(e, "%v", err))
		return
	}
	cred, err := peerCred(c)
	if !allowed(req.Op, cred, err) {
		writeAll(c, deny(syscall.EPERM, "svc %s needs uid 0", req.Op))
		return
	}
	if req.Op == control.OpList {
		s.refreshDrivers()
	}
	call := ctlCall{req: req, reply: make(chan []control.Reply, 1)}
	if cred != nil {
		call.peer = cred.Pid
	}
	select {
	case s.events <- call:
	case <-time.After(loopWait):
		writeAll(c, deny(syscall.EAGAIN, "init is busy"))
		return
	}
	select {
	case r := <-call.reply:
		writeAll(c, r)
	case <-time.After(loopWait):
		writeAll(c, deny(syscall.EAGAIN, "init is busy"))
	}
}

func writeAll(c net.Conn, frames []control.Reply) {
	for i := range frames {
		if control.WriteFrame(c, &frames[i]) != nil {
			return
		}
	}
}

// peerCred asks the kernel who is at the other end of c.
func peerCred(c net.Conn) (*unix.Ucred, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return nil, errors.New("not a unix socket")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return nil, err
	}
	return cred, credErr
}

// allowed decides whether a caller with cred (or credErr, if the kernel
// could not say) may do op: anyone may look, only uid 0 may act.
func allowed(op control.Op, cred *unix.Ucred, credErr error) bool {
	if !op.Privileged() {
		return true
	}
	return credErr == nil && cred != nil && cred.Uid == 0
}

// registry is a capability on pcid's registry for the control server,
// set once at boot (bootConsole); nil before.
var registry atomic.Pointer[devices]

// refreshDrivers reads pcid's list, so that svc list shows the drivers
// as they are now; pcid gets driverListWait to answer.
func (s *supervisor) refreshDrivers() {
	dev := registry.Load()
	if dev == nil {
		return
	}
	got := make(chan driversSeen, 1)
	go func() {
		fns, err := dev.registry.List(context.Background())
		if err == nil {
			got <- driversSeen{fns: fns}
		}
	}()
	select {
	case e := <-got:
		s.events <- e
	case <-time.After(driverListWait):
	}
}
