package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"syscall"

	"valence.dev/ipc"
	"valence.dev/libos"
)

// The detach race: one thread sends handles in a call while other threads
// of the same process close them. The kernel once checked a message's
// handles and then moved them one by one in separate steps, so a handle
// closed in between made the call fail after some handles had already
// left the sender: lost, neither closed by anyone nor delivered. Now a
// message's handles move all or none, atomically.
//
// Every round sends four fresh notification handles to a server process
// while closer threads (real threads: each locks its goroutine to one)
// close some of them. Afterwards each handle must have exactly one fate:
// closed by a closer, delivered to the server, or still in the sender
// (when the call was refused because another was closed). The server
// counts what arrives; its count must match the successful calls.
//
// Under QEMU's single CPU the kernel switches threads inside a system call
// only if it blocks or is preempted, so the old window (between the check
// and the moves) is rarely hit here; caps' host tests race the same
// operations on several CPUs (TestMoveAllRacesClose*).
//
// ATTACKS_DETACH_ROUNDS sets the number of rounds.

const (
	labelDetachSend = 0xde7a
	labelDetachStop = 0xde7b
	detachClosers   = 3
)

func init() {
	addTest("detach-race", testDetachRace)
	addRole("detach-server", detachServer)
}

func detachRounds() int { return envInt("ATTACKS_DETACH_ROUNDS", 1500) }

// detachRound is one round: the handles sent, and which the closers
// closed (each closer writes only its own entries).
type detachRound struct {
	hs     [ipc.MaxHandles]ipc.Handle
	target [detachClosers]int  // index into hs each closer tries to close
	closed [detachClosers]bool // it succeeded
	delay  [detachClosers]int  // spins before closing
	wg     sync.WaitGroup
}

// spin wastes a little time without system calls.
func spin(n int) {
	x := 0
	for i := 0; i < n; i++ {
		x += i
	}
	runtime.KeepAlive(x)
}

func testDetachRace() error {
	runtime.LockOSThread() // the sender: a thread of its own
	defer runtime.UnlockOSThread()
	ep, ph, err := startDetachServer()
	if err != nil {
		return err
	}
	defer func() {
		libos.ProcKill(ph, syscall.SIGKILL)
		libos.ProcWait(ph)
		libos.Close(ph)
	}()
	defer libos.Close(ep)

	rounds := detachRounds()
	feeds := make([]chan *detachRound, detachClosers)
	for c := range feeds {
		feeds[c] = make(chan *detachRound)
		go func(c int) {
			runtime.LockOSThread()
			for r := range feeds[c] {
				spin(r.delay[c])
				r.closed[c] = libos.Close(r.hs[r.target[c]]) == nil
				r.wg.Done()
			}
		}(c)
	}
	defer func() {
		for _, f := range feeds {
			close(f)
		}
	}()

	rng := rand.New(rand.NewPCG(7, 7))
	sent, refused := 0, 0
	for round := range rounds {
		r := &detachRound{}
		for i := range r.hs {
			if r.hs[i], err = libos.NewNotification(); err != nil {
				return fmt.Errorf("round %d: %v", round, err)
			}
		}
		for c := range detachClosers {
			r.target[c] = rng.IntN(len(r.hs))
			r.delay[c] = rng.IntN(2000)
		}
		r.wg.Add(detachClosers)
		for _, f := range feeds {
			f <- r
		}
		if round%3 == 0 {
			// On one CPU the closers mostly run once the sender blocks,
			// after its handles left: let them go first now and then,
			// so that refused sends are checked too.
			r.wg.Wait()
		} else {
			spin(rng.IntN(2000))
		}
		var m, rep ipc.Message
		m.Label, m.NHandles, m.Handles = labelDetachSend, ipc.MaxHandles, r.hs
		callErr := libos.Call(ep, &m, &rep)
		r.wg.Wait()

		closedBy := make([]bool, len(r.hs))
		anyClosed := false
		for c := range detachClosers {
			if r.closed[c] {
				closedBy[r.target[c]] = true
				anyClosed = true
			}
		}
		switch {
		case callErr == nil:
			sent++
			if rep.Label != ipc.MaxHandles {
				return fmt.Errorf("round %d: the server got %d handles of %d", round, rep.Label, ipc.MaxHandles)
			}
			if anyClosed {
				return fmt.Errorf("round %d: a handle was both sent and closed", round)
			}
			for i, h := range r.hs {
				if _, err := libos.Info(h); err == nil {
					return fmt.Errorf("round %d: handle %d (%#x) still here after it was sent", round, i, h)
				}
			}
		case errors.Is(callErr, syscall.EBADF) || errors.Is(callErr, syscall.ESTALE):
			refused++
			if !anyClosed {
				return fmt.Errorf("round %d: call refused (%v) though no handle was closed", round, callErr)
			}
			for i, h := range r.hs {
				_, err := libos.Info(h)
				switch {
				case closedBy[i] && err == nil:
					return fmt.Errorf("round %d: handle %d (%#x) was closed but still resolves", round, i, h)
				case !closedBy[i] && err != nil:
					return fmt.Errorf("round %d: handle %d (%#x) lost: nobody closed it and the call was refused, yet it is gone (%v)", round, i, h, err)
				case !closedBy[i]:
					if err := libos.Close(h); err != nil {
						return fmt.Errorf("round %d: closing the unsent handle %d: %v", round, i, err)
					}
				}
			}
		default:
			return fmt.Errorf("round %d: call: %v", round, callErr)
		}
	}
	// The server's own count.
	var m, rep ipc.Message
	m.Label = labelDetachStop
	if err := libos.Call(ep, &m, &rep); err != nil {
		return fmt.Errorf("stopping the server: %v", err)
	}
	got, bad := binary.LittleEndian.Uint64(rep.Data[0:]), binary.LittleEndian.Uint64(rep.Data[8:])
	if got != uint64(sent*ipc.MaxHandles) || bad != 0 {
		return fmt.Errorf("the server received %d handles (%d unusable); %d calls of %d succeeded", got, bad, sent, ipc.MaxHandles)
	}
	st, err := libos.ProcWait(ph)
	if err != nil || !st.Exited() || st.ExitStatus() != 0 {
		return fmt.Errorf("server ended with %v, %v", st, err)
	}
	if refused == 0 || sent == 0 {
		fmt.Printf("attacks: detach-race: note: %d calls sent, %d refused: the race was not exercised both ways\n", sent, refused)
	}
	return nil
}

// startDetachServer spawns the server and returns a client handle to its
// endpoint (write and grant) and its process handle. The server registers
// by calling a one-off endpoint of ours with its client handle.
func startDetachServer() (ep, ph ipc.Handle, err error) {
	reg, err := libos.NewEndpoint()
	if err != nil {
		return 0, 0, err
	}
	defer libos.Close(reg)
	regCopy, err := libos.Dup(reg, ipc.RightWrite|ipc.RightGrant, 0)
	if err != nil {
		return 0, 0, err
	}
	ph, _, err = libos.ProcSpawn(self(), []string{"attacks", "role", "detach-server"}, nil, []ipc.Handle{regCopy})
	libos.Close(regCopy)
	if err != nil {
		return 0, 0, err
	}
	var m, rep ipc.Message
	tok, err := libos.Recv(reg, &m)
	if err != nil {
		return 0, 0, err
	}
	if m.NHandles != 1 {
		return 0, 0, fmt.Errorf("registration with %d handles", m.NHandles)
	}
	if err := libos.Reply(reg, tok, &rep); err != nil {
		return 0, 0, err
	}
	return m.Handles[0], ph, nil
}

// detachServer counts the handles that arrive, checks each is a usable
// notification, and closes it. The stop call gets the totals.
func detachServer([]string) int {
	hs := libos.InitialHandles()
	if len(hs) != 1 {
		return 1
	}
	ep, err := libos.NewEndpoint()
	if err != nil {
		return 2
	}
	cli, err := libos.Dup(ep, ipc.RightWrite|ipc.RightGrant, 0)
	if err != nil {
		return 3
	}
	var m, rep ipc.Message
	m.NHandles, m.Handles[0] = 1, cli
	if err := libos.Call(hs[0], &m, &rep); err != nil {
		return 4
	}
	var got, bad uint64
	var tok uint64
	rep = ipc.Message{}
	for {
		tok, err = libos.ReplyRecv(ep, tok, &rep, &m)
		if err != nil {
			fmt.Println("detach-server:", err)
			return 5
		}
		rep = ipc.Message{}
		switch m.Label {
		case labelDetachSend:
			for _, h := range m.Handles[:m.NHandles] {
				got++
				if info, err := libos.Info(h); err != nil || info.Type != ipc.TypeNotification {
					bad++
				}
				if libos.Close(h) != nil {
					bad++
				}
			}
			rep.Label = uint64(m.NHandles)
		case labelDetachStop:
			binary.LittleEndian.PutUint64(rep.Data[0:], got)
			binary.LittleEndian.PutUint64(rep.Data[8:], bad)
			rep.DataLen = 16
			if err := libos.Reply(ep, tok, &rep); err != nil {
				return 6
			}
			return 0
		default:
			rep.Status = -int32(syscall.EINVAL)
		}
	}
}
