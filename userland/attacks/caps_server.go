package main

// A server in the test process, for the capability attacks (caps_*.go).

import (
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"valence.dev/ipc"
)

// caServer answers calls on an endpoint from threads of its own: echo
// (reply [badge, request words...]), hang (the token goes to hung), stop.
// It counts the badges it sees and the notification bits it receives.
type caServer struct {
	ep      ipc.Handle
	threads int
	hung    chan uint64
	wg      sync.WaitGroup

	mu     sync.Mutex
	badges map[uint64]int
	nnotes int
	err    error
}

func caStartServer(ep ipc.Handle, threads int) *caServer {
	s := &caServer{ep: ep, threads: threads, hung: make(chan uint64, 64), badges: map[uint64]int{}}
	for i := 0; i < threads; i++ {
		s.wg.Add(1)
		go s.serve()
	}
	return s
}

func (s *caServer) serve() {
	defer s.wg.Done()
	runtime.LockOSThread() // a kernel thread of its own
	defer runtime.UnlockOSThread()
	req, rep := new(ipc.Message), new(ipc.Message)
	var tok uint64
	for {
		var e syscall.Errno
		tok, e = caReplyRecv(s.ep, tok, rep, req)
		if e != 0 {
			s.mu.Lock()
			s.err = fmt.Errorf("server: reply-recv: %s", caName(e))
			s.mu.Unlock()
			return
		}
		if tok == 0 {
			s.mu.Lock()
			s.nnotes++
			s.mu.Unlock()
			continue
		}
		rep.Header = ipc.Header{Label: req.Label + 1}
		switch req.Label {
		case caLabelStop:
			caReply(s.ep, tok, rep)
			return
		case caLabelHang:
			s.hung <- tok
			tok = 0
			continue
		}
		s.mu.Lock()
		s.badges[req.Badge]++
		s.mu.Unlock()
		n := req.DataLen
		if n > ipc.MaxData-8 {
			n = ipc.MaxData - 8
		}
		copy(rep.Data[8:8+n], req.Data[:n])
		*(*uint64)(unsafe.Pointer(&rep.Data[0])) = req.Badge
		rep.DataLen = n + 8
	}
}

// stop ends the server's threads and reports its first error.
func (s *caServer) stop() error {
	for i := 0; i < s.threads; i++ {
		req, rep := new(ipc.Message), new(ipc.Message)
		req.Label = caLabelStop
		if e, done := caWithin(10*time.Second, func() syscall.Errno { return caCall(s.ep, req, rep) }); !done || e != 0 {
			return fmt.Errorf("stopping the server: %s", caName(e))
		}
	}
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// echo calls the server through h and checks the reply and the badge it saw.
func (s *caServer) echo(h ipc.Handle, badge uint64) error {
	req, rep := new(ipc.Message), new(ipc.Message)
	req.Label = caLabelEcho
	caPut(req, 0x1234, uint64(h))
	e, done := caWithin(10*time.Second, func() syscall.Errno { return caCall(h, req, rep) })
	if !done || e != 0 {
		return fmt.Errorf("an echo call through %#x: %s", uint64(h), caName(e))
	}
	if rep.Label != caLabelEcho+1 || caWord(rep, 0) != badge || caWord(rep, 1) != 0x1234 || caWord(rep, 2) != uint64(h) {
		return fmt.Errorf("an echo call through %#x: reply label %#x badge %d words %#x %#x, want badge %d",
			uint64(h), rep.Label, caWord(rep, 0), caWord(rep, 1), caWord(rep, 2), badge)
	}
	return nil
}

func (s *caServer) notes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nnotes
}

func (s *caServer) count(badge uint64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.badges[badge]
}

func (s *caServer) badgesOtherThan(allowed ...uint64) []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var bad []uint64
outer:
	for b := range s.badges {
		for _, a := range allowed {
			if a == b {
				continue outer
			}
		}
		bad = append(bad, b)
	}
	return bad
}
