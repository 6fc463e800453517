package caps_test

import (
	"errors"
	"fmt"
	"testing"

	"valence.dev/caps"
	"valence.dev/ipc"
)

// object is a kernel object for tests: caps compares the pointers.
type object struct{ Name string }

func (o *object) String() string { return o.Name }

// Short names for rights, so that tables of cases stay readable.
const (
	rR   = ipc.RightRead
	rW   = ipc.RightWrite
	rG   = ipc.RightGrant
	rD   = ipc.RightDuplicate
	rM   = ipc.RightMap
	rS   = ipc.RightSignal
	rMg  = ipc.RightManage
	rAll = ipc.RightsAll
)

// mustInsert inserts a root capability or fails the test.
func mustInsert(t testing.TB, tb *caps.Table, obj caps.Object, rights ipc.Rights, badge uint64) ipc.Handle {
	t.Helper()
	h, err := tb.Insert(obj, rights, badge)
	if err != nil {
		t.Fatalf("Insert(%v, %#x, %d): %v", obj, rights, badge, err)
	}
	return h
}

func mustDuplicate(t testing.TB, tb *caps.Table, h ipc.Handle, rights ipc.Rights, badge uint64) ipc.Handle {
	t.Helper()
	d, err := tb.Duplicate(h, rights, badge)
	if err != nil {
		t.Fatalf("Duplicate(%#x, %#x, %d): %v", h, rights, badge, err)
	}
	return d
}

func mustGrant(t testing.TB, tb *caps.Table, h ipc.Handle, dst *caps.Table, rights ipc.Rights) ipc.Handle {
	t.Helper()
	d, err := tb.Grant(h, dst, rights)
	if err != nil {
		t.Fatalf("Grant(%#x, %#x): %v", h, rights, err)
	}
	return d
}

// mustCheck fails the test if the System breaks an invariant.
func mustCheck(t testing.TB, s *caps.System) {
	t.Helper()
	if err := s.Check(); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

// checkErr fails the test unless err is (wraps) want; want nil means
// success.
func checkErr(t testing.TB, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Errorf("%s: unexpected error %v", what, err)
	case want != nil && !errors.Is(err, want):
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}

// handleIn is where a handle lives, for snapshots.
type handleIn struct {
	tb *caps.Table
	h  ipc.Handle
}

// state is what a test can observe of a System through the given handles
// and objects: each handle's Info (or its error) and each table's length
// and each object's holder count. Comparing states before and after a
// failed call shows that it changed nothing.
type state struct {
	Infos   []string
	Lens    []int
	Holders []int
}

func observe(s *caps.System, handles []handleIn, tables []*caps.Table, objs []caps.Object) state {
	var st state
	for _, x := range handles {
		c, err := x.tb.Info(x.h)
		if err != nil {
			st.Infos = append(st.Infos, "error: "+err.Error())
		} else {
			st.Infos = append(st.Infos, describe(c))
		}
	}
	for _, tb := range tables {
		st.Lens = append(st.Lens, tb.Len())
	}
	for _, o := range objs {
		st.Holders = append(st.Holders, s.Holders(o))
	}
	return st
}

func describe(c caps.Cap) string {
	return fmt.Sprintf("%v rights=%#x badge=%d", c.Object, c.Rights, c.Badge)
}
