package main

// The processes the capability attacks (caps_attacks.go, caps_moves.go)
// start, and the servers and clients they talk to them with.

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"valence.dev/ipc"
	"valence.dev/libos"
)

func init() {
	addRole("caps-sleep", roleCapsSleep)
	addRole("caps-sender", roleCapsSender)
	addRole("caps-peer", roleCapsPeer)
	addRole("caps-hammer", roleCapsHammer)
	addRole("caps-blocked", roleCapsBlocked)
	addRole("caps-escalate", roleCapsEscalate)
	addRole("caps-mem-creator", roleCapsMemCreator)
}

// Labels of the calls the tests and their children make.
const (
	caLabelEcho  = 0xca00 + iota // reply: [badge, the request's words...]
	caLabelStop                  // a caServer thread replies and stops
	caLabelHang                  // no reply until released
	caLabelHello                 // a child's first call, carrying its endpoint
	// The peer's commands (rolePeer). Replies carry -errno in Status.
	caPeerKeep    // keep the handles: [n, then idx, type, rights, badge, object for each]
	caPeerCount   // [how many kept handles still name something]
	caPeerSignal  // [idx, bits]: notify signal through kept[idx]
	caPeerInfo    // [idx] -> [type, rights, badge, object, handle value]
	caPeerGive    // [k, idx...]: the reply carries those kept handles (moved; kept[idx] keeps the dead value)
	caPeerDup     // [idx, rights] -> [new idx]
	caPeerFill    // dup its endpoint until the table is full -> [count], Status the errno that stopped it
	caPeerUnfill  // close what Fill made
	caPeerHang    // keep the handles and the call: no reply until Release
	caPeerRelease // reply to the hung calls
	caPeerExit    // exit without replying
	caPeerSleep   // [ms]: reply, then do not receive for ms
	caPeerMap     // [idx, prot]: map kept[idx] -> [addr, size]
	caPeerSum     // [checksum of the mapping]
	caPeerUnmap   // unmap the mapping
	caPeerClose   // [idx]: close kept[idx]
	caPeerClient  // the reply carries a new Write|Grant copy of its endpoint
)

// roleCapsSleep waits to be killed.
func roleCapsSleep([]string) int {
	for {
		time.Sleep(time.Hour)
	}
}

// roleCapsSender holds [endpoint client, notification x]: it signals x
// (showing it holds it), then calls the endpoint sending x, and waits in
// that call to be killed.
func roleCapsSender([]string) int {
	hs := libos.InitialHandles()
	if len(hs) != 2 {
		fmt.Printf("attacks: caps-sender: handles %v\n", hs)
		return 10
	}
	if e := caSignal(hs[1], 1); e != 0 {
		fmt.Printf("attacks: caps-sender: signal: %s\n", caName(e))
		return 11
	}
	req, rep := new(ipc.Message), new(ipc.Message)
	req.Label, req.NHandles, req.Handles[0] = caLabelEcho, 1, hs[1]
	e := caCall(hs[0], req, rep)
	fmt.Printf("attacks: caps-sender: the call returned: %s\n", caName(e))
	return 12
}

// ---- a server in the test process

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

// ---- the peer: a child serving an endpoint of its own, on command

// caPeer is the test's side of a peer process.
type caPeer struct {
	ph   ipc.Handle
	pid  int
	cli  ipc.Handle // Write|Grant on the peer's endpoint
	done bool
}

// caBootstrap starts role with a Write|Grant copy of a fresh endpoint
// (then the role's first handle, before hs) and waits for its hello call;
// the call's handles are returned. The reply goes back empty.
func caBootstrap(role string, args []string, hs ...ipc.Handle) (ipc.Handle, int, *ipc.Message, error) {
	boot, e := caEndpoint()
	if e != 0 {
		return 0, 0, nil, fmt.Errorf("endpoint create: %s", caName(e))
	}
	defer caClose(boot)
	nb, _ := caNotification()
	defer caClose(nb)
	if e := caBind(nb, boot); e != 0 {
		return 0, 0, nil, fmt.Errorf("notify bind: %s", caName(e))
	}
	give, _ := caDup(boot, ipc.RightWrite|ipc.RightGrant, 0)
	ph, pid, e := caSpawn(role, args, append([]ipc.Handle{give}, hs...))
	caClose(give)
	if e != 0 {
		return 0, 0, nil, fmt.Errorf("spawning %s: %s", role, caName(e))
	}
	caProcNotify(ph, nb, 1) // its death ends the receive below
	m := new(ipc.Message)
	var tok uint64
	e, done := caWithin(30*time.Second, func() syscall.Errno {
		var e syscall.Errno
		tok, e = caRecv(boot, m)
		return e
	})
	if !done || e != 0 || tok == 0 || m.Label != caLabelHello {
		caEnd(ph, pid, true, 10*time.Second)
		return 0, 0, nil, fmt.Errorf("%s did not say hello: %s, returned %v, token %d, label %#x", role, caName(e), done, tok, m.Label)
	}
	if e := caReply(boot, tok, new(ipc.Message)); e != 0 {
		caEnd(ph, pid, true, 10*time.Second)
		return 0, 0, nil, fmt.Errorf("replying to %s's hello: %s", role, caName(e))
	}
	return ph, pid, m, nil
}

func caStartPeer() (*caPeer, error) {
	ph, pid, m, err := caBootstrap("caps-peer", nil)
	if err != nil {
		return nil, err
	}
	if m.NHandles != 1 {
		caEnd(ph, pid, true, 10*time.Second)
		return nil, fmt.Errorf("the peer's hello carried %d handles", m.NHandles)
	}
	return &caPeer{ph: ph, pid: pid, cli: m.Handles[0]}, nil
}

// do sends the peer a command carrying hs; it returns the reply and the
// call's errno (ETIMEDOUT if there was no answer in 20 s).
func (p *caPeer) do(label uint64, hs []ipc.Handle, args ...uint64) (*ipc.Message, syscall.Errno) {
	return caCallWith(p.cli, label, hs, args...)
}

func caCallWith(h ipc.Handle, label uint64, hs []ipc.Handle, args ...uint64) (*ipc.Message, syscall.Errno) {
	req, rep := new(ipc.Message), new(ipc.Message)
	req.Label = label
	caPut(req, args...)
	req.NHandles = uint32(len(hs))
	copy(req.Handles[:], hs)
	e, done := caWithin(20*time.Second, func() syscall.Errno { return caCall(h, req, rep) })
	if !done {
		return rep, syscall.ETIMEDOUT
	}
	return rep, e
}

// must is do that expects both the call and the command to succeed.
func (p *caPeer) must(what string, label uint64, hs []ipc.Handle, args ...uint64) (*ipc.Message, error) {
	rep, e := p.do(label, hs, args...)
	if e != 0 {
		return rep, fmt.Errorf("%s: the call to the peer: %s", what, caName(e))
	}
	if st := caStatus(rep); st != 0 {
		return rep, fmt.Errorf("%s: the peer says %s", what, caName(st))
	}
	return rep, nil
}

// keep sends the peer hs to keep, and returns the index of the first.
func (p *caPeer) keep(what string, hs ...ipc.Handle) (int, *ipc.Message, error) {
	rep, err := p.must(what, caPeerKeep, hs)
	if err != nil {
		return 0, rep, err
	}
	if got := caWord(rep, 0); got != uint64(len(hs)) {
		return 0, rep, fmt.Errorf("%s: the peer received %d handles, want %d", what, got, len(hs))
	}
	return int(caWord(rep, 1)), rep, nil
}

// kept is how many handles the peer keeps.
func (p *caPeer) kept() (int, error) {
	rep, err := p.must("counting the peer's handles", caPeerCount, nil)
	return int(caWord(rep, 0)), err
}

// end kills the peer (if it still runs) and reaps it.
func (p *caPeer) end() {
	if !p.done {
		p.done = true
		caEnd(p.ph, p.pid, true, 10*time.Second)
		caClose(p.cli)
	}
}

// roleCapsPeer serves an endpoint of its own, whose Write|Grant copy its
// hello call carries to the test, and does what the calls say.
func roleCapsPeer([]string) int {
	hs := libos.InitialHandles()
	if len(hs) != 1 {
		return 10
	}
	ep, e := caEndpoint()
	if e != 0 {
		fmt.Printf("attacks: caps-peer: endpoint create: %s\n", caName(e))
		return 11
	}
	give, _ := caDup(ep, ipc.RightWrite|ipc.RightGrant, 0)
	if _, e := caCallWith(hs[0], caLabelHello, []ipc.Handle{give}); e != 0 {
		fmt.Printf("attacks: caps-peer: hello: %s\n", caName(e))
		return 12
	}
	caClose(hs[0])
	var (
		kept   []ipc.Handle
		fill   []ipc.Handle
		hung   []uint64
		va, sz uintptr
	)
	at := func(m *ipc.Message, i int) ipc.Handle {
		if k := int(caWord(m, i)); k < len(kept) {
			return kept[k]
		}
		return 0
	}
	m, out := new(ipc.Message), new(ipc.Message)
	for {
		tok, e := caRecv(ep, m)
		if e != 0 {
			fmt.Printf("attacks: caps-peer: recv: %s\n", caName(e))
			return 13
		}
		if tok == 0 {
			continue
		}
		out.Header = ipc.Header{Label: m.Label + 1}
		var st syscall.Errno
		var words []uint64
		sleep := time.Duration(0)
		switch m.Label {
		case caLabelEcho:
			words = []uint64{m.Badge}
			for i := 0; i < int(m.DataLen/8); i++ {
				words = append(words, caWord(m, i))
			}
		case caPeerKeep, caPeerHang:
			words = []uint64{uint64(m.NHandles)}
			for _, h := range m.Handles[:m.NHandles] {
				info, _ := caInfo(h)
				words = append(words, uint64(len(kept)), uint64(info.Type), uint64(info.Rights), info.Badge, info.Object)
				kept = append(kept, h)
			}
			if m.Label == caPeerHang {
				hung = append(hung, tok)
				continue
			}
		case caPeerCount: // the kept handles that still name something
			k := 0
			for _, h := range kept {
				if _, e := caInfo(h); e == 0 {
					k++
				}
			}
			words = []uint64{uint64(k)}
		case caPeerSignal:
			st = caSignal(at(m, 0), caWord(m, 1))
		case caPeerInfo:
			h := at(m, 0)
			info, e := caInfo(h)
			st = e
			words = []uint64{uint64(info.Type), uint64(info.Rights), info.Badge, info.Object, uint64(h)}
		case caPeerGive:
			k := int(caWord(m, 0))
			for i := 0; i < k && i < ipc.MaxHandles; i++ {
				out.Handles[i] = at(m, 1+i) // kept keeps the old value: it must name nothing after
			}
			out.NHandles = uint32(k)
		case caPeerDup:
			h, e := caDup(at(m, 0), ipc.Rights(caWord(m, 1)), 0)
			st = e
			if e == 0 {
				words = []uint64{uint64(len(kept))}
				kept = append(kept, h)
			}
		case caPeerFill:
			for {
				h, e := caDup(ep, ipc.RightRead, 0)
				if e != 0 {
					st = e
					break
				}
				fill = append(fill, h)
			}
			words = []uint64{uint64(len(fill))}
		case caPeerUnfill:
			for _, h := range fill {
				caClose(h)
			}
			words = []uint64{uint64(len(fill))}
			fill = nil
		case caPeerRelease:
			for _, t := range hung {
				caReply(ep, t, &ipc.Message{Header: ipc.Header{Label: caPeerHang + 1}})
			}
			words = []uint64{uint64(len(hung))}
			hung = nil
		case caPeerExit:
			os.Exit(0)
		case caPeerSleep:
			sleep = time.Duration(caWord(m, 0)) * time.Millisecond
		case caPeerMap:
			h := at(m, 0)
			info, _ := caInfo(h)
			a, e := caMap(h, 0, int(caWord(m, 1)), 0)
			st = e
			if e == 0 {
				va, sz = a, uintptr(info.Size)
			}
			words = []uint64{uint64(a), info.Size}
		case caPeerSum:
			if sz == 0 {
				st = syscall.EINVAL
				break
			}
			words = []uint64{caChecksum(caWords(va, sz))}
		case caPeerUnmap:
			st = caMunmap(va, sz)
			va, sz = 0, 0
		case caPeerClose:
			st = caClose(at(m, 0))
		case caPeerClient:
			h, e := caDup(ep, ipc.RightWrite|ipc.RightGrant, 0)
			st = e
			if e == 0 {
				out.NHandles, out.Handles[0] = 1, h
			}
		default:
			st = syscall.EINVAL
		}
		out.Status = -int32(st)
		caPut(out, words...)
		if e := caReply(ep, tok, out); e != 0 {
			// The reply could not go (with its handles, say): answer
			// without them, so the caller learns why.
			out.Header = ipc.Header{Label: m.Label + 1, Status: -int32(e)}
			caReply(ep, tok, out)
		}
		time.Sleep(sleep)
	}
}

// caWords views length bytes of memory at addr as 64-bit words.
func caWords(addr, length uintptr) []uint64 {
	return unsafe.Slice((*uint64)(*(*unsafe.Pointer)(unsafe.Pointer(&addr))), length/8)
}

func caChecksum(ws []uint64) uint64 {
	s := uint64(0xcbf29ce484222325)
	for i, w := range ws {
		s = (s ^ w ^ uint64(i)) * 0x100000001b3
	}
	return s
}

// caPattern is word i of the test pattern with seed.
func caPattern(seed uint64, i int) uint64 {
	return seed*0x9e3779b97f4a7c15 + uint64(i)*0xbf58476d1ce4e5b9 + 1
}

func caFill(ws []uint64, seed uint64) {
	for i := range ws {
		ws[i] = caPattern(seed, i)
	}
}

// caCheck reports the first word of ws that is not the pattern (except
// those in except, which must hold their given values).
func caCheck(what string, ws []uint64, seed uint64, except map[int]uint64) error {
	for i, w := range ws {
		want, special := except[i]
		if !special {
			want = caPattern(seed, i)
		}
		if w != want {
			return fmt.Errorf("%s: word %d of %d is %#x, want %#x", what, i, len(ws), w, want)
		}
	}
	return nil
}

// ---- the revoked clients

// roleCapsHammer calls its one endpoint handle from several threads, each
// locked to a kernel thread of its own. "count N": every thread makes N
// calls that must all succeed. "until-revoked": every thread calls until
// its call fails, which must be EBADF or ESTALE, after at least one call
// succeeded overall; then every use of the handle must fail.
func roleCapsHammer(args []string) int {
	hs := libos.InitialHandles()
	if len(hs) != 1 || len(args) != 3 {
		return 10
	}
	h := hs[0]
	mode := args[0]
	threads, _ := strconv.Atoi(args[1])
	calls, _ := strconv.Atoi(args[2])
	type result struct {
		ok  int
		err syscall.Errno
		bad string
	}
	res := make([]result, threads)
	var wg sync.WaitGroup
	for t := 0; t < threads; t++ {
		wg.Add(1)
		go func(t int) {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			req, rep := new(ipc.Message), new(ipc.Message)
			for i := 0; i < calls; i++ {
				req.Header = ipc.Header{Label: caLabelEcho}
				seq := uint64(t)<<32 | uint64(i)
				caPut(req, seq, ^seq)
				if e := caCall(h, req, rep); e != 0 {
					res[t].err = e
					return
				}
				if rep.Label != caLabelEcho+1 || caWord(rep, 1) != seq || caWord(rep, 2) != ^seq {
					res[t].bad = fmt.Sprintf("call %d: reply label %#x words %#x %#x, want %#x", i, rep.Label, caWord(rep, 1), caWord(rep, 2), seq)
					return
				}
				res[t].ok++
			}
		}(t)
	}
	wg.Wait()
	total := 0
	for t, r := range res {
		total += r.ok
		if r.bad != "" {
			fmt.Printf("attacks: caps-hammer %s: thread %d: %s\n", mode, t, r.bad)
			return 11
		}
		switch {
		case mode == "count" && r.err != 0:
			fmt.Printf("attacks: caps-hammer: thread %d: call %d failed: %s\n", t, r.ok, caName(r.err))
			return 12
		case mode == "until-revoked" && r.err != syscall.EBADF && r.err != syscall.ESTALE:
			fmt.Printf("attacks: caps-hammer until-revoked: thread %d: after %d calls: %s, want EBADF or ESTALE\n", t, r.ok, caName(r.err))
			return 13
		}
	}
	if mode == "until-revoked" {
		if total == 0 {
			fmt.Println("attacks: caps-hammer: revoked before any call went through")
			return 14
		}
		if err := caAllRefused(h); err != nil {
			fmt.Printf("attacks: caps-hammer: %v\n", err)
			return 15
		}
	}
	return 0
}

// caAllRefused checks that a revoked handle is dead for every use.
func caAllRefused(h ipc.Handle) error {
	n, _ := caNotification()
	defer caClose(n)
	for _, op := range caOps(h, n, 0, nil) {
		if op.name == "a handle at proc spawn" || op.name == "a handle in a call" ||
			op.name == "notify bind (the notification)" || op.name == "proc notify (the notification)" {
			continue // they use the other arguments' handles, which are h itself here
		}
		if err := caProbe(op, h, "the revoked handle", syscall.EBADF, syscall.ESTALE); err != nil {
			return err
		}
	}
	return nil
}

// roleCapsBlocked makes one call that the server holds (it revokes the
// handle meanwhile, then answers), then checks every later use fails.
func roleCapsBlocked([]string) int {
	hs := libos.InitialHandles()
	if len(hs) != 1 {
		return 10
	}
	req, rep := new(ipc.Message), new(ipc.Message)
	req.Label = caLabelHang
	e := caCall(hs[0], req, rep)
	switch {
	case e == 0 && rep.Label != caLabelHang+1:
		fmt.Printf("attacks: caps-blocked: the held call's reply has label %#x\n", rep.Label)
		return 11
	case e != 0 && e != syscall.EBADF && e != syscall.ESTALE:
		fmt.Printf("attacks: caps-blocked: the held call: %s\n", caName(e))
		return 12
	}
	if err := caAllRefused(hs[0]); err != nil {
		fmt.Printf("attacks: caps-blocked: %v\n", err)
		return 13
	}
	fmt.Printf("attacks: caps-revoked: the call in flight at the revocation returned %s; every later use failed\n", caName(e))
	return 0
}

// roleCapsEscalate holds [Signal|Grant notification, Read|Map|Grant
// memory, Write|Grant|Duplicate endpoint with badge 5] and tries to do
// more with them than that.
func roleCapsEscalate([]string) int {
	hs := libos.InitialHandles()
	if len(hs) != 3 {
		fmt.Printf("attacks: caps-escalate child: handles %v\n", hs)
		return 10
	}
	n, mem, ep := hs[0], hs[1], hs[2]
	fail := func(err error) int {
		fmt.Printf("attacks: caps-escalate child: %v\n", err)
		return 11
	}
	for _, c := range []struct {
		what   string
		h      ipc.Handle
		typ    uint32
		rights ipc.Rights
		badge  uint64
	}{
		{"the notification", n, ipc.TypeNotification, ipc.RightSignal | ipc.RightGrant, 0},
		{"the memory object", mem, ipc.TypeMemory, ipc.RightRead | ipc.RightMap | ipc.RightGrant, 0},
		{"the endpoint", ep, ipc.TypeEndpoint, ipc.RightWrite | ipc.RightGrant | ipc.RightDuplicate, 5},
	} {
		info, e := caInfo(c.h)
		if e != 0 || info.Type != c.typ || info.Rights != c.rights || info.Badge != c.badge {
			return fail(fmt.Errorf("%s: %+v %s, want type %d rights %#x badge %d", c.what, info, caName(e), c.typ, c.rights, c.badge))
		}
	}
	for _, c := range []struct {
		what string
		run  func() syscall.Errno
		want syscall.Errno
	}{
		{"dup of the notification (no Duplicate)", func() syscall.Errno { _, e := caDup(n, ipc.RightSignal, 0); return e }, syscall.EACCES},
		{"dup of the memory object (no Duplicate)", func() syscall.Errno { _, e := caDup(mem, ipc.RightRead, 0); return e }, syscall.EACCES},
		{"revoke of the notification", func() syscall.Errno { _, e := caRevoke(n); return e }, syscall.EACCES},
		{"revoke of the endpoint", func() syscall.Errno { _, e := caRevoke(ep); return e }, syscall.EACCES},
		{"wait on the notification (no Read)", func() syscall.Errno { _, e := caPoll(n); return e }, syscall.EACCES},
		{"bind of the notification", func() syscall.Errno { return caBind(n, ep) }, syscall.EACCES},
		{"mem map writable", func() syscall.Errno { _, e := caMap(mem, 0, syscall.PROT_READ|syscall.PROT_WRITE, 0); return e }, syscall.EACCES},
		{"mem map write-only", func() syscall.Errno { _, e := caMap(mem, 0, syscall.PROT_WRITE, 0); return e }, syscall.EACCES},
		{"reply through the endpoint (no Read)", func() syscall.Errno { return caReply(ep, caBogusToken, new(ipc.Message)) }, syscall.EACCES},
		{"dup of the endpoint with another badge", func() syscall.Errno { _, e := caDup(ep, ipc.RightWrite, 6); return e }, syscall.EINVAL},
		{"dup of the endpoint with Read", func() syscall.Errno { _, e := caDup(ep, ipc.RightWrite|ipc.RightRead, 0); return e }, syscall.EINVAL},
		{"dup of the endpoint with Manage", func() syscall.Errno { _, e := caDup(ep, ipc.RightManage, 0); return e }, syscall.EINVAL},
	} {
		if err := caWant(c.what, c.run(), c.want); err != nil {
			return fail(err)
		}
	}
	if e, done := caWithin(3*time.Second, func() syscall.Errno { _, e := caRecv(ep, new(ipc.Message)); return e }); !done || e != syscall.EACCES {
		return fail(fmt.Errorf("recv through the endpoint (no Read): %s (returned: %v), want EACCES", caName(e), done))
	}
	// What it may do, it can.
	if e := caSignal(n, 1<<4); e != 0 {
		return fail(fmt.Errorf("signal: %s", caName(e)))
	}
	va, e := caMap(mem, 0, syscall.PROT_READ, 0)
	if e != 0 {
		return fail(fmt.Errorf("mem map readable: %s", caName(e)))
	}
	caMunmap(va, 2*mrPage)
	d, e := caDup(ep, ipc.RightWrite, 0)
	if e != 0 {
		return fail(fmt.Errorf("dup of the endpoint: %s", caName(e)))
	}
	for _, h := range []ipc.Handle{ep, d} {
		rep, e := caCallWith(h, caLabelEcho, nil, 42)
		if e != 0 || caWord(rep, 0) != 5 || caWord(rep, 1) != 42 {
			return fail(fmt.Errorf("a call through %#x: %s, the server saw badge %d", uint64(h), caName(e), caWord(rep, 0)))
		}
	}
	return 0
}

// roleCapsMemCreator (args: size, seed) creates a memory object, maps it,
// fills it, sends a Read|Map copy to the test in its hello call, closes
// every handle it has, writes a marker through its mapping (which stays),
// and exits.
func roleCapsMemCreator(args []string) int {
	hs := libos.InitialHandles()
	if len(hs) != 1 || len(args) != 2 {
		return 10
	}
	size, _ := strconv.ParseUint(args[0], 0, 64)
	seed, _ := strconv.ParseUint(args[1], 0, 64)
	mem, e := caMemory(size)
	if e != 0 {
		fmt.Printf("attacks: caps-mem-creator: mem create: %s\n", caName(e))
		return 11
	}
	va, e := caMap(mem, 0, syscall.PROT_READ|syscall.PROT_WRITE, 0)
	if e != 0 {
		fmt.Printf("attacks: caps-mem-creator: mem map: %s\n", caName(e))
		return 12
	}
	ws := caWords(va, uintptr(size))
	caFill(ws, seed)
	ro, _ := caDup(mem, ipc.RightRead|ipc.RightMap|ipc.RightGrant, 0)
	if _, e := caCallWith(hs[0], caLabelHello, []ipc.Handle{ro}); e != 0 {
		fmt.Printf("attacks: caps-mem-creator: hello: %s\n", caName(e))
		return 13
	}
	caClose(mem)
	caClose(hs[0])
	if err := caCheck("caps-mem-creator: its mapping after closing its handles", ws, seed, nil); err != nil {
		fmt.Printf("attacks: %v\n", err)
		return 14
	}
	ws[1] = 0xfeed
	return 0
}
