package caps_test

import (
	"errors"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"valence.dev/caps"
	"valence.dev/ipc"
)

// Tests of the batch operations, MoveAll and GrantAll: all or nothing on
// every kind of failure, and atomic with respect to other threads.

// handles picks fixture handles by name, so that cases stay readable.
// "stale" reuses the closed value's slot first, so the value goes stale.
func (f *fixture) handles(t *testing.T, names ...string) []ipc.Handle {
	var hs []ipc.Handle
	for _, n := range names {
		var h ipc.Handle
		switch n {
		case "all":
			h = f.all
		case "badged":
			h = f.badged
		case "weak":
			h = f.weak
		case "dupOnly":
			h = f.dupOnly
		case "mem":
			h = f.memH
		case "closed":
			h = f.closed
		case "stale":
			mustInsert(t, f.a, f.mem, rR, 0)
			h = f.closed
		case "inFull":
			h = f.inFull
		case "zero":
			h = 0
		default:
			t.Fatalf("no fixture handle %q", n)
		}
		hs = append(hs, h)
	}
	return hs
}

func TestMoveAll(t *testing.T) {
	toB := func(f *fixture) *caps.Table { return f.b }
	full := func(f *fixture) *caps.Table { return f.full }
	tests := []struct {
		name  string
		table func(f *fixture) *caps.Table
		hs    []string
		dst   func(f *fixture) *caps.Table
		err   error
		bad   int // index of the handle the error names (-1: the first, for batch-wide errors)
	}{
		{name: "two to b", hs: []string{"all", "mem"}, dst: toB},
		{name: "three to b", hs: []string{"badged", "mem", "all"}, dst: toB},
		{name: "one", hs: []string{"badged"}, dst: toB},
		{name: "none", hs: nil, dst: toB},
		{name: "within its table", hs: []string{"all", "mem"}, dst: func(f *fixture) *caps.Table { return f.a }},
		{name: "within a full table", table: full, hs: []string{"inFull"}, dst: full},
		{name: "bad handle first", hs: []string{"closed", "all"}, dst: toB, err: caps.ErrBadHandle, bad: 0},
		{name: "bad handle in the middle", hs: []string{"all", "closed", "mem"}, dst: toB, err: caps.ErrBadHandle, bad: 1},
		{name: "zero last", hs: []string{"all", "mem", "zero"}, dst: toB, err: caps.ErrBadHandle, bad: 2},
		{name: "stale", hs: []string{"all", "stale"}, dst: toB, err: caps.ErrStale, bad: 1},
		{name: "missing RightGrant", hs: []string{"all", "mem", "weak"}, dst: toB, err: caps.ErrRights, bad: 2},
		{name: "duplicate", hs: []string{"all", "mem", "all"}, dst: toB, err: caps.ErrDuplicate, bad: 2},
		{name: "duplicate within its table", hs: []string{"mem", "mem"}, dst: func(f *fixture) *caps.Table { return f.a }, err: caps.ErrDuplicate, bad: 1},
		{name: "rights checked before duplicates", hs: []string{"dupOnly", "dupOnly"}, dst: toB, err: caps.ErrRights, bad: 0},
		{name: "destination full", hs: []string{"all"}, dst: full, err: caps.ErrFull, bad: -1},
		{name: "room for one of two", hs: []string{"all", "mem"}, dst: func(f *fixture) *caps.Table { return f.s.NewTable(1) }, err: caps.ErrFull, bad: -1},
		{name: "handles checked before room", hs: []string{"all", "closed"}, dst: full, err: caps.ErrBadHandle, bad: 1},
		{name: "into a dead table", hs: []string{"all"}, dst: func(f *fixture) *caps.Table { return f.dead }, err: caps.ErrDead, bad: -1},
		{name: "from a dead table", table: func(f *fixture) *caps.Table { return f.dead }, hs: []string{"all"}, dst: toB, err: caps.ErrDead, bad: -1},
		{name: "into another system", hs: []string{"all", "mem"}, dst: func(f *fixture) *caps.Table { return f.foreign }, err: caps.ErrForeign, bad: -1},
		{name: "into nil", hs: []string{"all"}, dst: func(f *fixture) *caps.Table { return nil }, err: caps.ErrForeign, bad: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tb := f.a
			if tt.table != nil {
				tb = tt.table(f)
			}
			dst := tt.dst(f)
			hs := f.handles(t, tt.hs...)
			var infos []caps.Cap
			for _, h := range hs {
				c, _ := tb.Info(h)
				infos = append(infos, c)
			}
			before := f.state()
			var dstLen int
			if dst != nil {
				dstLen = dst.Len()
			}
			srcLen := tb.Len()
			nhs, err := tb.MoveAll(hs, dst)
			checkErr(t, "MoveAll", err, tt.err)
			if err != nil {
				f.unchanged(t, before)
				if dst != nil && dst.Len() != dstLen {
					t.Errorf("destination length %d after a failed MoveAll, was %d", dst.Len(), dstLen)
				}
				var oe *caps.OpError
				want := ipc.Handle(0)
				if tt.bad >= 0 {
					want = hs[tt.bad]
				} else if len(hs) > 0 {
					want = hs[0]
				}
				if !errors.As(err, &oe) || oe.Handle != want {
					t.Errorf("error %v names the wrong handle, want %#x", err, want)
				}
				return
			}
			if len(nhs) != len(hs) {
				t.Fatalf("MoveAll returned %d handles for %d", len(nhs), len(hs))
			}
			for i, h := range nhs {
				if got, err := dst.Info(h); err != nil || got != infos[i] {
					t.Errorf("moved handle %d: Info %v, %v; want %v", i, describe(got), err, describe(infos[i]))
				}
				if _, err := tb.Info(hs[i]); err == nil {
					t.Errorf("old handle %#x still resolves after the move", hs[i])
				}
			}
			if tb != dst && (tb.Len() != srcLen-len(hs) || dst.Len() != dstLen+len(hs)) {
				t.Errorf("lengths %d, %d after the move, want %d, %d", tb.Len(), dst.Len(), srcLen-len(hs), dstLen+len(hs))
			}
			if tb == dst && tb.Len() != srcLen {
				t.Errorf("length %d after renaming, want %d", tb.Len(), srcLen)
			}
			if got := []int{f.s.Holders(f.ep), f.s.Holders(f.mem)}; !cmp.Equal(got, before.Holders) {
				t.Errorf("Holders changed from %v to %v", before.Holders, got)
			}
			mustCheck(t, f.s)
		})
	}
}

func TestGrantAll(t *testing.T) {
	toB := func(f *fixture) *caps.Table { return f.b }
	tests := []struct {
		name  string
		table func(f *fixture) *caps.Table
		hs    []string
		dst   func(f *fixture) *caps.Table
		err   error
	}{
		{name: "two to b", hs: []string{"all", "mem"}, dst: toB},
		{name: "badge kept", hs: []string{"badged"}, dst: toB},
		{name: "a repeat makes two children", hs: []string{"mem", "mem"}, dst: toB},
		{name: "none", hs: nil, dst: toB},
		{name: "into its own table", hs: []string{"all"}, dst: func(f *fixture) *caps.Table { return f.a }},
		{name: "bad handle last", hs: []string{"all", "mem", "closed"}, dst: toB, err: caps.ErrBadHandle},
		{name: "stale", hs: []string{"stale", "all"}, dst: toB, err: caps.ErrStale},
		{name: "missing RightGrant", hs: []string{"all", "dupOnly"}, dst: toB, err: caps.ErrRights},
		{name: "room for one of two", hs: []string{"all", "mem"}, dst: func(f *fixture) *caps.Table { return f.s.NewTable(1) }, err: caps.ErrFull},
		{name: "into a dead table", hs: []string{"all"}, dst: func(f *fixture) *caps.Table { return f.dead }, err: caps.ErrDead},
		{name: "into another system", hs: []string{"all"}, dst: func(f *fixture) *caps.Table { return f.foreign }, err: caps.ErrForeign},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tb := f.a
			if tt.table != nil {
				tb = tt.table(f)
			}
			dst := tt.dst(f)
			hs := f.handles(t, tt.hs...)
			before := f.state()
			dstLen := dst.Len()
			nhs, err := tb.GrantAll(hs, dst)
			checkErr(t, "GrantAll", err, tt.err)
			if err != nil {
				f.unchanged(t, before)
				if dst.Len() != dstLen {
					t.Errorf("destination length %d after a failed GrantAll, was %d", dst.Len(), dstLen)
				}
				return
			}
			if len(nhs) != len(hs) || dst.Len() != dstLen+len(hs) {
				t.Fatalf("GrantAll returned %d handles for %d; destination length %d, was %d", len(nhs), len(hs), dst.Len(), dstLen)
			}
			for i, h := range nhs {
				want, _ := tb.Info(hs[i])
				if got, err := dst.Info(h); err != nil || got != want {
					t.Errorf("granted handle %d: Info %v, %v; want %v", i, describe(got), err, describe(want))
				}
			}
			mustCheck(t, f.s)
			// Every child is derived: revoking a source (one that may be
			// revoked) removes it.
			for i, h := range hs {
				if c, _ := tb.Info(h); c.Rights&rMg == 0 {
					continue
				}
				if _, err := tb.Revoke(h); err != nil {
					t.Fatal(err)
				}
				if _, err := dst.Info(nhs[i]); err == nil {
					t.Errorf("granted handle %#x survived the revoke of its source", nhs[i])
				}
			}
			mustCheck(t, f.s)
		})
	}
}

// TestMoveAllRacesClose is a sender's threads closing handles while
// another thread sends them, in batches, as a message's handles: every
// batch moves whole or not at all, every handle ends closed, moved or
// still where it was (never two of these, never none), and no capability
// is lost or duplicated.
func TestMoveAllRacesClose(t *testing.T) {
	const (
		rounds  = 40
		n       = 128 // handles per round
		batch   = 4   // handles per message
		closers = 4
	)
	for round := range rounds {
		s := caps.NewSystem()
		src := s.NewTable(n)
		objs := make([]*object, n)
		hs := make([]ipc.Handle, n)
		for i := range objs {
			objs[i] = &object{"obj"}
			hs[i] = mustInsert(t, src, objs[i], rAll, 0)
		}
		closed := make([]bool, n)         // by a closer
		movedTo := make([]*caps.Table, n) // the transit table it went to
		moved := make([]ipc.Handle, n)    // its handle there
		var mu sync.Mutex                 // guards closed and errs
		var errs []error
		var wg sync.WaitGroup
		gate := make(chan struct{}) // starts everyone at once
		for c := range closers {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(round), uint64(c)))
				<-gate
				for _, i := range r.Perm(n)[:n/12] {
					orphan, err := src.Close(hs[i])
					mu.Lock()
					switch {
					case err == nil && orphan == caps.Object(objs[i]):
						closed[i] = true
					case err == nil:
						errs = append(errs, errors.New("Close returned the wrong orphan"))
					case !errors.Is(err, caps.ErrBadHandle):
						errs = append(errs, err) // moved or closed by another closer: only EBADF
					}
					mu.Unlock()
				}
			})
		}
		wg.Go(func() { // the sender
			<-gate
			for start := 0; start < n; start += batch {
				tr := s.NewTable(batch)
				got, err := src.MoveAll(hs[start:start+batch], tr)
				if err != nil {
					if !errors.Is(err, caps.ErrBadHandle) {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
					}
					if tr.Len() != 0 {
						mu.Lock()
						errs = append(errs, errors.New("a failed MoveAll moved some handles"))
						mu.Unlock()
					}
					continue
				}
				for k, h := range got {
					movedTo[start+k], moved[start+k] = tr, h
				}
			}
		})
		wg.Go(func() {
			<-gate
			for range 20 {
				if err := s.Check(); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
		close(gate)
		wg.Wait()
		for _, err := range errs {
			t.Errorf("round %d: %v", round, err)
		}
		mustCheck(t, s)
		for i, o := range objs {
			_, inSrc := src.Info(hs[i])
			fates := 0
			if closed[i] {
				fates++
				if s.Holders(o) != 0 {
					t.Errorf("round %d: handle %d closed, but its object has %d holders", round, i, s.Holders(o))
				}
			}
			if movedTo[i] != nil {
				fates++
				if c, err := movedTo[i].Info(moved[i]); err != nil || c.Object != caps.Object(o) {
					t.Errorf("round %d: handle %d moved, but its new handle gives %v, %v", round, i, describe(c), err)
				}
			}
			if inSrc == nil {
				fates++
			}
			if fates != 1 {
				t.Errorf("round %d: handle %d: closed %v, moved %v, still in the sender %v", round, i, closed[i], movedTo[i] != nil, inSrc == nil)
			}
			if !closed[i] && s.Holders(o) != 1 {
				t.Errorf("round %d: handle %d not closed, but its object has %d holders", round, i, s.Holders(o))
			}
		}
		// A batch that failed must have had a closed handle in it.
		for start := 0; start < n; start += batch {
			if movedTo[start] != nil {
				continue
			}
			hadClosed := false
			for k := range batch {
				hadClosed = hadClosed || closed[start+k]
			}
			if !hadClosed {
				t.Errorf("round %d: batch at %d was refused, but none of its handles was closed", round, start)
			}
		}
	}
}

// TestMoveAllRacesCloseTight races one Close against one MoveAll of four
// handles, started together, many times: the shape of a message send with
// another thread closing one of its handles. The kernel's old detach
// (check every handle, then move them one call at a time) lost the handles
// moved before the closed one in about one race in a thousand here.
func TestMoveAllRacesCloseTight(t *testing.T) {
	iterations := 20000
	if testing.Short() {
		iterations = 2000
	}
	s := caps.NewSystem()
	src := s.NewTable(8)
	refused := 0
	for it := range iterations {
		objs := make([]*object, 4)
		hs := make([]ipc.Handle, 4)
		for i := range hs {
			objs[i] = &object{"obj"}
			hs[i] = mustInsert(t, src, objs[i], rAll, 0)
		}
		victim := it % len(hs)
		tr := s.NewTable(len(hs))
		var closeErr, moveErr error
		var wg sync.WaitGroup
		wg.Go(func() { _, closeErr = src.Close(hs[victim]) })
		wg.Go(func() { _, moveErr = src.MoveAll(hs, tr) })
		wg.Wait()
		switch {
		case moveErr == nil && closeErr == nil:
			t.Fatalf("iteration %d: handle %d both moved and closed", it, victim)
		case moveErr == nil:
			if tr.Len() != len(hs) {
				t.Fatalf("iteration %d: MoveAll succeeded with %d of %d handles in transit", it, tr.Len(), len(hs))
			}
		case closeErr == nil:
			refused++
			if !errors.Is(moveErr, caps.ErrBadHandle) || tr.Len() != 0 {
				t.Fatalf("iteration %d: MoveAll: %v with %d handles in transit", it, moveErr, tr.Len())
			}
			for i, h := range hs {
				if i == victim {
					continue
				}
				if _, err := src.Info(h); err != nil {
					t.Fatalf("iteration %d: handle %d lost: not closed, not moved (%v)", it, i, err)
				}
				if _, err := src.Close(h); err != nil {
					t.Fatal(err)
				}
			}
		default:
			t.Fatalf("iteration %d: Close: %v; MoveAll: %v", it, closeErr, moveErr)
		}
		tr.Destroy()
		for i, o := range objs {
			if n := s.Holders(o); n != 0 {
				t.Fatalf("iteration %d: object %d has %d holders after the round", it, i, n)
			}
		}
	}
	mustCheck(t, s)
	t.Logf("%d of %d sends refused because the close came first", refused, iterations)
}
