package main

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"valence.dev/userland/init/control"
)

func TestAllowed(t *testing.T) {
	root, user := &unix.Ucred{Pid: 5, Uid: 0}, &unix.Ucred{Pid: 6, Uid: 1000}
	unknown := errors.New("no SO_PEERCRED")
	tests := []struct {
		op      control.Op
		cred    *unix.Ucred
		err     error
		allowed bool
	}{
		{control.OpList, user, nil, true},
		{control.OpLog, user, nil, true},
		{control.OpList, nil, unknown, true},
		{control.OpStop, root, nil, true},
		{control.OpStart, root, nil, true},
		{control.OpRestart, root, nil, true},
		{control.OpKill, root, nil, true},
		{control.OpStop, user, nil, false},
		{control.OpKill, user, nil, false},
		{control.OpStart, user, nil, false},
		{control.OpRestart, user, nil, false},
		{control.OpKill, nil, unknown, false}, // no credentials: no action
		{control.OpKill, root, unknown, false},
	}
	for _, tc := range tests {
		if got := allowed(tc.op, tc.cred, tc.err); got != tc.allowed {
			t.Errorf("allowed(%s, %+v, %v) = %v, want %v", tc.op, tc.cred, tc.err, got, tc.allowed)
		}
	}
}

// TestServeConn drives the control server's connection handler with a
// fake loop: hostile frames are refused with the right errno, an
// operation that changes a service needs credentials (a pipe has none),
// and a good request reaches the loop and its answer the client.
func TestServeConn(t *testing.T) {
	s := &supervisor{events: make(chan any, 1)}
	go func() {
		for e := range s.events {
			if c, ok := e.(ctlCall); ok {
				c.reply <- answer("loop saw %s %s", c.req.Op, c.req.Name)
			}
		}
	}()
	defer close(s.events)
	frame := func(r control.Request) []byte {
		var b bytes.Buffer
		control.WriteFrame(&b, &r)
		return b.Bytes()
	}
	v := control.Version
	tests := []struct {
		name  string
		send  []byte
		errno syscall.Errno
		msg   string
	}{
		{"list", frame(control.Request{Version: v, Op: control.OpList}), 0, "loop saw list"},
		{"log", frame(control.Request{Version: v, Op: control.OpLog, Name: "netd"}), 0, "loop saw log netd"},
		{"stop without credentials", frame(control.Request{Version: v, Op: control.OpStop, Name: "netd"}), syscall.EPERM, "svc stop needs uid 0"},
		{"kill without credentials", frame(control.Request{Version: v, Op: control.OpKill, Name: "netd", Signal: 9}), syscall.EPERM, "needs uid 0"},
		{"huge length", []byte{0xff, 0xff, 0xff, 0x7f}, syscall.EINVAL, "frame too big"},
		{"other version", []byte{2, 0, 0, 0, 9, 1}, syscall.EPROTONOSUPPORT, "unsupported protocol version"},
		{"garbage", []byte{3, 0, 0, 0, 1, 200, 200}, syscall.EINVAL, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client, server := net.Pipe()
			go s.serveConn(server)
			go client.Write(tc.send)
			client.SetDeadline(time.Now().Add(10 * time.Second))
			var rep control.Reply
			err := control.ReadFrame(client, &rep)
			client.Close()
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			if syscall.Errno(rep.Errno) != tc.errno || !strings.Contains(rep.Message, tc.msg) {
				t.Errorf("answer %v %q, want %v with %q", syscall.Errno(rep.Errno), rep.Message, tc.errno, tc.msg)
			}
		})
	}
}
