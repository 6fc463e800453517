package caps_test

import (
	"errors"
	"math/rand/v2"
	"sync"
	"testing"

	"valence.dev/caps"
	"valence.dev/ipc"
)

// TestConcurrent runs kernel-thread-like workers on one System: each
// derives capabilities from a shared server's roots into its own table,
// uses and closes them, while the server revokes and another goroutine
// runs Check. Run it under -race. Failures caused by the races themselves
// (a handle revoked under a worker) are expected; anything else is not.
func TestConcurrent(t *testing.T) {
	s := caps.NewSystem()
	server := s.NewTable(16)
	objs := make([]*object, 4)
	roots := make([]ipc.Handle, len(objs))
	for i := range objs {
		objs[i] = &object{"obj"}
		roots[i] = mustInsert(t, server, objs[i], rAll, 0)
	}
	const workers, rounds = 8, 1500
	tables := make([]*caps.Table, workers)
	for i := range tables {
		tables[i] = s.NewTable(32)
	}
	// Errors the races explain, and ErrRights from revoking a read-only
	// duplicate.
	expected := func(err error) bool {
		return err == nil || errors.Is(err, caps.ErrBadHandle) || errors.Is(err, caps.ErrStale) ||
			errors.Is(err, caps.ErrFull) || errors.Is(err, caps.ErrRights)
	}

	var wg sync.WaitGroup
	errs := make(chan error, workers+2)
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			tb := tables[w]
			var mine []ipc.Handle
			for range rounds {
				root := roots[r.IntN(len(roots))]
				h, err := server.Grant(root, tb, rR|rD|rG|rMg)
				if !expected(err) {
					errs <- err
					return
				}
				if err == nil {
					mine = append(mine, h)
				}
				if len(mine) == 0 {
					continue
				}
				h = mine[r.IntN(len(mine))]
				switch r.IntN(4) {
				case 0:
					if d, err := tb.Duplicate(h, rR, 0); err == nil {
						mine = append(mine, d)
					} else if !expected(err) {
						errs <- err
						return
					}
				case 1:
					if _, err := tb.Lookup(h, rR); !expected(err) {
						errs <- err
						return
					}
				case 2:
					if _, err := tb.Revoke(h); !expected(err) {
						errs <- err
						return
					}
				case 3:
					if _, err := tb.Close(h); !expected(err) {
						errs <- err
						return
					}
				}
			}
		})
	}
	done := make(chan struct{})
	var bg sync.WaitGroup
	bg.Go(func() { // the server revokes now and then
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			if _, err := server.Revoke(roots[i%len(roots)]); err != nil {
				errs <- err
				return
			}
		}
	})
	bg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if err := s.Check(); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(done)
	bg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	mustCheck(t, s)
	for _, tb := range tables {
		if orphans := tb.Destroy(); len(orphans) != 0 {
			t.Errorf("Destroy of a worker orphaned %v, but the server holds every object", orphans)
		}
	}
	for _, o := range objs {
		if n := s.Holders(o); n != 1 {
			t.Errorf("Holders = %d after every worker died, want 1", n)
		}
	}
	mustCheck(t, s)
}
