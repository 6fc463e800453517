package main

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"syscall"

	"valence.dev/ipc"
	"valence.dev/libos"
)

// The IPC storm: several client processes call one endpoint as fast as
// they can while several server threads answer with reply-recv. It once
// panicked the kernel within a fraction of a second ("sync: unlock of
// unlocked mutex"): a pooled call record was recycled by its caller
// while the replier was still finishing with it. Every reply is checked
// against its request, so a record handed to the wrong call, or a message
// that leaked from one call into another, fails the test too.
//
// ATTACKS_STORM_CALLS sets the calls per client (make soak runs 250,000
// with 4 clients: 10^6 round trips).

const (
	stormClients = 4
	stormServers = 2
	labelStorm   = 0x5707
)

func init() {
	addTest("ipc-storm", testIPCStorm)
	addRole("storm-client", stormClient)
}

func stormCalls() int { return envInt("ATTACKS_STORM_CALLS", 15000) }

func testIPCStorm() error {
	ep, err := libos.NewEndpoint()
	if err != nil {
		return err
	}
	defer libos.Close(ep)
	calls := stormCalls()
	var wg sync.WaitGroup
	served := make([]int, stormServers)
	serveErr := make([]error, stormServers)
	for i := 0; i < stormServers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			served[i], serveErr[i] = stormServe(ep)
		}(i)
	}
	var procs []ipc.Handle
	for id := 0; id < stormClients; id++ {
		h, err := libos.Dup(ep, ipc.RightWrite|ipc.RightGrant, uint64(id+1))
		if err != nil {
			return err
		}
		ph, _, err := libos.ProcSpawn(self(), []string{"attacks", "role", "storm-client", strconv.Itoa(id + 1), strconv.Itoa(calls)}, nil, []ipc.Handle{h})
		libos.Close(h)
		if err != nil {
			return err
		}
		procs = append(procs, ph)
	}
	var failed error
	for id, ph := range procs {
		st, err := libos.ProcWait(ph)
		libos.Close(ph)
		if err != nil {
			return err
		}
		if !st.Exited() || st.ExitStatus() != 0 {
			failed = fmt.Errorf("client %d ended with status %#x", id+1, uint32(st))
		}
	}
	// Stop the servers: one call each with label 0.
	for i := 0; i < stormServers; i++ {
		var m, rep ipc.Message
		if err := libos.Call(ep, &m, &rep); err != nil {
			return fmt.Errorf("stopping a server: %v", err)
		}
	}
	wg.Wait()
	total := 0
	for i := range served {
		if serveErr[i] != nil {
			return serveErr[i]
		}
		total += served[i]
	}
	if failed != nil {
		return failed
	}
	if want := stormClients * calls; total != want {
		return fmt.Errorf("servers answered %d calls, want %d", total, want)
	}
	fmt.Printf("attacks: ipc-storm: %d clients, %d server threads, %d round trips\n", stormClients, stormServers, total)
	return nil
}

// stormServe answers calls on ep until a call with label 0: the reply's
// label is the request's plus one, its data the request's bytes
// reversed, and its status the caller's badge.
func stormServe(ep ipc.Handle) (int, error) {
	runtime.LockOSThread() // a real kernel thread per server
	var req, rep ipc.Message
	var tok uint64
	n := 0
	for {
		var err error
		tok, err = libos.ReplyRecv(ep, tok, &rep, &req)
		if err != nil {
			return n, fmt.Errorf("server: reply-recv: %v", err)
		}
		if tok == 0 {
			continue // notification bits: none are bound
		}
		if req.Label == 0 {
			rep = ipc.Message{}
			return n, libos.Reply(ep, tok, &rep)
		}
		if req.Label&0xffff != labelStorm {
			return n, fmt.Errorf("server: call with label %#x", req.Label)
		}
		n++
		rep.Label = req.Label + 1<<16
		rep.Status = int32(req.Badge)
		rep.NHandles = 0
		rep.DataLen = req.DataLen
		for i := uint32(0); i < req.DataLen; i++ {
			rep.Data[i] = req.Data[req.DataLen-1-i]
		}
	}
}

// stormClient makes its calls and checks every reply.
func stormClient(args []string) int {
	hs := libos.InitialHandles()
	if len(hs) != 1 || len(args) != 2 {
		return 10
	}
	id, _ := strconv.Atoi(args[0])
	calls, _ := strconv.Atoi(args[1])
	var req, rep ipc.Message
	for i := 0; i < calls; i++ {
		seq := uint64(i)<<32 | uint64(id)
		req.Label = uint64(i)<<32 | labelStorm
		req.DataLen = uint32(16 + i%200)
		for j := uint32(0); j < req.DataLen; j++ {
			req.Data[j] = byte(seq>>(8*(j%8))) ^ byte(j)
		}
		binary.LittleEndian.PutUint64(req.Data[:], seq)
		if err := libos.Call(hs[0], &req, &rep); err != nil {
			fmt.Printf("storm-client %d: call %d: %v\n", id, i, err)
			if err == syscall.EINTR {
				return 11
			}
			return 12
		}
		if rep.Label != req.Label+1<<16 || rep.Status != int32(id) || rep.DataLen != req.DataLen {
			fmt.Printf("storm-client %d: call %d: reply label %#x status %d len %d, want %#x %d %d\n",
				id, i, rep.Label, rep.Status, rep.DataLen, req.Label+1<<16, id, req.DataLen)
			return 13
		}
		for j := uint32(0); j < req.DataLen; j++ {
			if rep.Data[j] != req.Data[req.DataLen-1-j] {
				fmt.Printf("storm-client %d: call %d: reply byte %d is %#x, want %#x\n", id, i, j, rep.Data[j], req.Data[req.DataLen-1-j])
				return 14
			}
		}
	}
	return 0
}
