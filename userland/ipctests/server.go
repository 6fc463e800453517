package main

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	"valence.dev/ipc"
	"valence.dev/libos"
)

// Labels of the test protocol (the raw message layer; the typed layer is
// tested in ipc/rpc).
const (
	labelRegister = 1 // server -> parent: here is my endpoint (handle 0)
	labelEcho     = 2 // data -> upper-cased data; reply carries the badge
	labelSignal   = 3 // handle 0 is a notification: signal it with bits from data
	labelHang     = 4 // never replied
)

const self = "/bin/ipctests"

func setData(m *ipc.Message, s string) {
	m.DataLen = uint32(copy(m.Data[:], s))
}

func data(m *ipc.Message) string { return string(m.Data[:m.DataLen]) }

// startServer spawns a server process and returns a client handle to its
// endpoint and the server's process handle. The server registers by
// calling a one-off registry endpoint of ours with a copy of its endpoint
// handle (write and grant rights only).
func startServer() (client, proc ipc.Handle, err error) { return startServerRole("server") }

// startServerRole spawns a server playing role.
func startServerRole(role string) (client, proc ipc.Handle, err error) {
	reg, err := libos.NewEndpoint()
	if err != nil {
		return 0, 0, err
	}
	defer libos.Close(reg)
	regCopy, err := libos.Dup(reg, ipc.RightWrite|ipc.RightGrant, 0)
	if err != nil {
		return 0, 0, err
	}
	proc, _, err = libos.ProcSpawn(self, []string{"ipctests", role}, nil, []ipc.Handle{regCopy})
	if err != nil {
		return 0, 0, err
	}
	libos.Close(regCopy)
	// A server that dies before registering must fail the test, not hang
	// it: its death arrives on the registry endpoint as a notification.
	died, err := libos.NewNotification()
	if err != nil {
		return 0, 0, err
	}
	defer libos.Close(died)
	if err := libos.NotifyBind(died, reg); err != nil {
		return 0, 0, err
	}
	if err := libos.ProcNotify(proc, died, 1); err != nil {
		return 0, 0, err
	}
	var m, rep ipc.Message
	tok, err := libos.Recv(reg, &m)
	if err != nil {
		return 0, 0, err
	}
	if m.Flags == ipc.MsgNotification {
		st, _ := libos.ProcWait(proc)
		how := fmt.Sprintf("exit status %d", st.ExitStatus())
		if st.Signaled() {
			how = "killed by " + st.Signal().String()
		}
		return 0, 0, fmt.Errorf("the %s ended before registering (%s)", role, how)
	}
	if m.Label != labelRegister || m.NHandles != 1 {
		return 0, 0, fmt.Errorf("registration: label %d with %d handles", m.Label, m.NHandles)
	}
	if err := libos.Reply(reg, tok, &rep); err != nil {
		return 0, 0, err
	}
	return m.Handles[0], proc, nil
}

// register creates the server's endpoint and sends a client copy to the
// parent through the registry handle the server was started with.
func register() (ipc.Handle, bool) {
	hs := libos.InitialHandles()
	if len(hs) != 1 {
		fmt.Println("server: want one initial handle, have", hs)
		return 0, false
	}
	ep, err := libos.NewEndpoint()
	if err != nil {
		fmt.Println("server:", err)
		return 0, false
	}
	cli, err := libos.Dup(ep, ipc.RightWrite|ipc.RightGrant|ipc.RightDuplicate, 0)
	if err != nil {
		fmt.Println("server:", err)
		return 0, false
	}
	var m, rep ipc.Message
	m.Label, m.NHandles, m.Handles[0] = labelRegister, 1, cli
	if err := libos.Call(hs[0], &m, &rep); err != nil {
		fmt.Println("server: register:", err)
		return 0, false
	}
	return ep, true
}

// serve is the server role: an endpoint, registered with the parent, then
// a receive loop.
func serve(args []string) int {
	ep, ok := register()
	if !ok {
		return 10
	}
	var m ipc.Message
	var err error
	var tok uint64
	var reply ipc.Message
	for {
		tok, err = libos.ReplyRecv(ep, tok, &reply, &m)
		if err != nil {
			fmt.Println("server:", err)
			return 14
		}
		reply = ipc.Message{}
		switch m.Label {
		case labelEcho:
			setData(&reply, strings.ToUpper(data(&m)))
			reply.Label = m.Badge
		case labelSignal:
			if m.NHandles != 1 {
				reply.Status = -1
				break
			}
			var bits uint64
			fmt.Sscan(data(&m), &bits)
			if err := libos.NotifySignal(m.Handles[0], bits); err != nil {
				reply.Status = -2
			}
			libos.Close(m.Handles[0])
		case labelHang:
			tok = 0 // never answered
		default:
			reply.Status = -int32(syscall.EINVAL)
		}
	}
}

// echo calls the echo method through h.
func echo(h ipc.Handle, s string) (string, uint64, error) {
	var m, rep ipc.Message
	m.Label = labelEcho
	setData(&m, s)
	if err := libos.Call(h, &m, &rep); err != nil {
		return "", 0, err
	}
	if rep.Status != 0 {
		return "", 0, fmt.Errorf("status %d", rep.Status)
	}
	return data(&rep), rep.Label, nil
}

func stopServer(proc ipc.Handle) error {
	if err := libos.ProcKill(proc, syscall.SIGKILL); err != nil {
		return err
	}
	st, err := libos.ProcWait(proc)
	if err != nil {
		return err
	}
	if !st.Signaled() {
		return fmt.Errorf("server ended with %v", st)
	}
	return libos.Close(proc)
}

func isErrno(err error, es ...syscall.Errno) bool {
	for _, e := range es {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
