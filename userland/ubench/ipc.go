package main

import (
	"fmt"
	"time"

	"valence.dev/ipc"
	"valence.dev/libos"
)

// The IPC round-trip benchmarks: a server child process answers calls on
// its endpoint, copying the request's data into the reply; the parent
// calls it with a 64-byte or a 4 KiB payload and checks every reply.

var ipcClient ipc.Handle

func ipcRoundTrip(size int) func(ops int) (time.Duration, error) {
	return func(ops int) (time.Duration, error) {
		if ipcClient == 0 {
			h, err := startIPCServer()
			if err != nil {
				return 0, err
			}
			ipcClient = h
		}
		var req, rep ipc.Message
		req.DataLen = uint32(size)
		t0 := time.Now()
		for i := 0; i < ops; i++ {
			req.Data[0], req.Data[size-1] = byte(i), byte(i>>8)
			if err := libos.Call(ipcClient, &req, &rep); err != nil {
				return 0, err
			}
			if rep.DataLen != uint32(size) || rep.Data[0] != byte(i) || rep.Data[size-1] != byte(i>>8) {
				return 0, fmt.Errorf("call %d: reply of %d bytes does not match", i, rep.DataLen)
			}
		}
		return time.Since(t0), nil
	}
}

func startIPCServer() (ipc.Handle, error) {
	reg, err := libos.NewEndpoint()
	if err != nil {
		return 0, err
	}
	defer libos.Close(reg)
	give, err := libos.Dup(reg, ipc.RightWrite|ipc.RightGrant, 0)
	if err != nil {
		return 0, err
	}
	self := executable()
	if _, _, err := libos.ProcSpawn(self, []string{"ubench", "ipc-server"}, nil, []ipc.Handle{give}); err != nil {
		return 0, err
	}
	libos.Close(give)
	var m, rep ipc.Message
	tok, err := libos.Recv(reg, &m)
	if err != nil {
		return 0, err
	}
	if m.NHandles != 1 {
		return 0, fmt.Errorf("the server registered %d handles", m.NHandles)
	}
	return m.Handles[0], libos.Reply(reg, tok, &rep)
}

// ipcServer is the server child: it echoes every call.
func ipcServer() int {
	hs := libos.InitialHandles()
	ep, err := libos.NewEndpoint()
	if err != nil || len(hs) != 1 {
		return 1
	}
	// Registration moves a client copy to the parent, which needs
	// RightGrant on it.
	cli, err := libos.Dup(ep, ipc.RightWrite|ipc.RightGrant, 0)
	if err != nil {
		return 2
	}
	var m, rep ipc.Message
	m.NHandles, m.Handles[0] = 1, cli
	if err := libos.Call(hs[0], &m, &rep); err != nil {
		return 3
	}
	var tok uint64
	for {
		tok, err = libos.ReplyRecv(ep, tok, &m, &m)
		if err != nil {
			return 4
		}
	}
}
