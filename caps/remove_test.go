package caps_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"valence.dev/caps"
	"valence.dev/ipc"
)

// Per-method tests for the operations that take a capability out of a
// slot: Move, Close and Revoke.

func TestMove(t *testing.T) {
	all := func(f *fixture) ipc.Handle { return f.all }
	toB := func(f *fixture) *caps.Table { return f.b }
	full := func(f *fixture) *caps.Table { return f.full }
	tests := []struct {
		name   string
		table  func(f *fixture) *caps.Table
		src    func(f *fixture) ipc.Handle
		dst    func(f *fixture) *caps.Table
		want   caps.Cap // Object: the fixture's ep
		oldErr error    // what the old handle gives afterwards
		root   bool     // src is the fixture's root, all
		err    error
	}{
		{name: "to another table", src: all, dst: toB, want: caps.Cap{Rights: rAll}, oldErr: caps.ErrBadHandle, root: true},
		{name: "badge and rights kept", src: func(f *fixture) ipc.Handle { return f.badged }, dst: toB, want: caps.Cap{Rights: rAll, Badge: 7}, oldErr: caps.ErrBadHandle},
		{name: "within its table", src: all, dst: func(f *fixture) *caps.Table { return f.a }, want: caps.Cap{Rights: rAll}, oldErr: caps.ErrStale, root: true},
		{name: "within a full table", table: full, src: func(f *fixture) ipc.Handle { return f.inFull }, dst: full, want: caps.Cap{Rights: rR | rD | rG}, oldErr: caps.ErrStale},
		{name: "without RightGrant", src: func(f *fixture) ipc.Handle { return f.dupOnly }, dst: toB, err: caps.ErrRights},
		{name: "into a full table", src: all, dst: full, err: caps.ErrFull},
		{name: "into a dead table", src: all, dst: func(f *fixture) *caps.Table { return f.dead }, err: caps.ErrDead},
		{name: "from a dead table", table: func(f *fixture) *caps.Table { return f.dead }, src: all, dst: toB, err: caps.ErrDead},
		{name: "into another system", src: all, dst: func(f *fixture) *caps.Table { return f.foreign }, err: caps.ErrForeign},
		{name: "closed", src: func(f *fixture) ipc.Handle { return f.closed }, dst: toB, err: caps.ErrBadHandle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tb := f.a
			if tt.table != nil {
				tb = tt.table(f)
			}
			dst, old := tt.dst(f), tt.src(f)
			before := f.state()
			srcLen, dstLen := tb.Len(), dst.Len()
			h, err := tb.Move(old, dst)
			checkErr(t, "Move", err, tt.err)
			if err != nil {
				f.unchanged(t, before)
				return
			}
			_, err = tb.Info(old)
			checkErr(t, "Info of the moved-from handle", err, tt.oldErr)
			if tb != dst && (tb.Len() != srcLen-1 || dst.Len() != dstLen+1) {
				t.Errorf("lengths %d, %d after the move, want %d, %d", tb.Len(), dst.Len(), srcLen-1, dstLen+1)
			}
			if got := f.s.Holders(f.ep); got != before.Holders[0] {
				t.Errorf("Holders changed from %d to %d", before.Holders[0], got)
			}
			want := tt.want
			want.Object = f.ep
			if tt.root {
				// The root itself moved: its descendants stay attached to
				// it, wherever it now is.
				n, err := dst.Revoke(h)
				if err != nil || n != 5 {
					t.Errorf("Revoke of the moved root = %d, %v; want 5 descendants", n, err)
				}
				if _, err := f.b.Info(f.inB); err == nil {
					t.Errorf("a descendant survived the revoke of the moved root")
				}
				mustCheck(t, f.s)
				return
			}
			f.derivedResult(t, dst, h, want)
		})
	}
}

func TestClose(t *testing.T) {
	tests := []struct {
		name   string
		table  func(f *fixture) *caps.Table
		h      func(f *fixture) ipc.Handle
		orphan bool // Close returns the object: it was its last capability
		err    error
	}{
		{name: "one of several", h: func(f *fixture) ipc.Handle { return f.all }},
		{name: "without any right", table: func(f *fixture) *caps.Table { return f.b }, h: func(f *fixture) ipc.Handle { return f.inB }},
		{name: "the last", h: func(f *fixture) ipc.Handle { return f.memH }, orphan: true},
		{name: "zero", h: func(f *fixture) ipc.Handle { return 0 }, err: caps.ErrBadHandle},
		{name: "twice", h: func(f *fixture) ipc.Handle { return f.closed }, err: caps.ErrBadHandle},
		{name: "dead table", table: func(f *fixture) *caps.Table { return f.dead }, h: func(f *fixture) ipc.Handle { return 1 }, err: caps.ErrDead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tb := f.a
			if tt.table != nil {
				tb = tt.table(f)
			}
			h := tt.h(f)
			before := f.state()
			var obj caps.Object
			if c, err := tb.Info(h); err == nil {
				obj = c.Object
			}
			holders := f.s.Holders(obj)
			orphan, err := tb.Close(h)
			checkErr(t, "Close", err, tt.err)
			if err != nil {
				f.unchanged(t, before)
				return
			}
			var want caps.Object
			if tt.orphan {
				want = obj
			}
			if orphan != want {
				t.Errorf("Close returned %v, want %v", orphan, want)
			}
			if got := f.s.Holders(obj); got != holders-1 {
				t.Errorf("Holders = %d, want %d", got, holders-1)
			}
			_, err = tb.Info(h)
			checkErr(t, "Info after Close", err, caps.ErrBadHandle)
			mustCheck(t, f.s)
		})
	}
}

func TestRevoke(t *testing.T) {
	tests := []struct {
		name  string
		table func(f *fixture) *caps.Table
		h     func(f *fixture) ipc.Handle
		n     int
		err   error
	}{
		{name: "root", h: func(f *fixture) ipc.Handle { return f.all }, n: 5},
		{name: "leaf", h: func(f *fixture) ipc.Handle { return f.badged }, n: 0},
		{name: "without RightManage", h: func(f *fixture) ipc.Handle { return f.weak }, err: caps.ErrRights},
		{name: "zero", h: func(f *fixture) ipc.Handle { return 0 }, err: caps.ErrBadHandle},
		{name: "dead table", table: func(f *fixture) *caps.Table { return f.dead }, h: func(f *fixture) ipc.Handle { return 1 }, err: caps.ErrDead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tb := f.a
			if tt.table != nil {
				tb = tt.table(f)
			}
			h := tt.h(f)
			before := f.state()
			n, err := tb.Revoke(h)
			checkErr(t, "Revoke", err, tt.err)
			if err != nil {
				f.unchanged(t, before)
				return
			}
			if n != tt.n {
				t.Errorf("Revoke removed %d, want %d", n, tt.n)
			}
			if _, err := tb.Info(h); err != nil {
				t.Errorf("the revoker lost its own capability: %v", err)
			}
			if diff := cmp.Diff(before.Holders[0]-tt.n, f.s.Holders(f.ep)); diff != "" {
				t.Errorf("Holders (-want +got):\n%s", diff)
			}
			mustCheck(t, f.s)
		})
	}
}
