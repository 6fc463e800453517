package main

// The peer of the capability attacks (caps_*.go): a child serving an
// endpoint of its own, on command.

import (
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"

	"valence.dev/ipc"
	"valence.dev/libos"
)

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
