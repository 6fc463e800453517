package caps_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"valence.dev/caps"
	"valence.dev/ipc"
)

// Per-method tests: every success path and every error, each starting from
// a fresh fixture (fixture_test.go). A failed call must change nothing.

func TestInsert(t *testing.T) {
	tests := []struct {
		name   string
		table  func(f *fixture) *caps.Table
		obj    caps.Object // nil: the fixture's ep
		rights ipc.Rights
		badge  uint64
		err    error
	}{
		{name: "root", rights: rAll},
		{name: "badged", rights: rR | rW, badge: 42},
		{name: "no rights", rights: 0},
		{name: "comparable value object", obj: 12345, rights: rR},
		{name: "nil object", obj: caps.Object(nil), rights: rR, err: caps.ErrBadObject},
		{name: "slice object", obj: []int{1}, rights: rR, err: caps.ErrBadObject},
		{name: "struct holding a slice", obj: struct{ v any }{v: []int{1}}, rights: rR, err: caps.ErrBadObject},
		{name: "unknown right", rights: rR | unknownRight, err: caps.ErrAttenuate},
		{name: "full", table: func(f *fixture) *caps.Table { return f.full }, rights: rR, err: caps.ErrFull},
		{name: "dead", table: func(f *fixture) *caps.Table { return f.dead }, rights: rR, err: caps.ErrDead},
		{name: "dead before bad object", table: func(f *fixture) *caps.Table { return f.dead }, obj: []int{}, err: caps.ErrDead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tb := f.a
			if tt.table != nil {
				tb = tt.table(f)
			}
			obj := tt.obj
			if obj == nil && tt.err != caps.ErrBadObject {
				obj = f.ep
			}
			before, holders := f.state(), f.s.Holders(f.ep)
			h, err := tb.Insert(obj, tt.rights, tt.badge)
			checkErr(t, "Insert", err, tt.err)
			if err != nil {
				f.unchanged(t, before)
				return
			}
			got, err := tb.Info(h)
			want := caps.Cap{Object: obj, Rights: tt.rights, Badge: tt.badge}
			if err != nil || !cmp.Equal(want, got) {
				t.Errorf("Info(new handle) = %v, %v; want %v", got, err, want)
			}
			if obj == f.ep && f.s.Holders(f.ep) != holders+1 {
				t.Errorf("Holders = %d, want %d", f.s.Holders(f.ep), holders+1)
			}
			mustCheck(t, f.s)
		})
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		name  string
		table func(f *fixture) *caps.Table
		h     func(f *fixture) ipc.Handle
		need  ipc.Rights
		want  caps.Cap // Object nil: the fixture's ep
		err   error
	}{
		{name: "all rights", h: func(f *fixture) ipc.Handle { return f.all }, need: rR | rW | rMg, want: caps.Cap{Rights: rAll}},
		{name: "badge reported", h: func(f *fixture) ipc.Handle { return f.badged }, need: rW, want: caps.Cap{Rights: rAll, Badge: 7}},
		{name: "no rights needed", h: func(f *fixture) ipc.Handle { return f.weak }, want: caps.Cap{Rights: rR | rW}},
		{name: "missing right", h: func(f *fixture) ipc.Handle { return f.weak }, need: rR | rG, err: caps.ErrRights},
		{name: "unknown right needed", h: func(f *fixture) ipc.Handle { return f.all }, need: unknownRight, err: caps.ErrRights},
		{name: "zero", h: func(f *fixture) ipc.Handle { return 0 }, err: caps.ErrBadHandle},
		{name: "closed", h: func(f *fixture) ipc.Handle { return f.closed }, err: caps.ErrBadHandle},
		{name: "dead table", table: func(f *fixture) *caps.Table { return f.dead }, h: func(f *fixture) ipc.Handle { return 1 }, err: caps.ErrDead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tb := f.a
			if tt.table != nil {
				tb = tt.table(f)
			}
			got, err := tb.Lookup(tt.h(f), tt.need)
			checkErr(t, "Lookup", err, tt.err)
			want := tt.want
			if tt.err == nil {
				want.Object = f.ep
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Lookup (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDuplicate(t *testing.T) {
	all := func(f *fixture) ipc.Handle { return f.all }
	tests := []struct {
		name   string
		table  func(f *fixture) *caps.Table
		src    func(f *fixture) ipc.Handle
		rights ipc.Rights
		badge  uint64
		want   caps.Cap // Object: the fixture's ep
		err    error
	}{
		{name: "copy", src: all, rights: rAll, want: caps.Cap{Rights: rAll}},
		{name: "attenuate", src: all, rights: rR | rMg, want: caps.Cap{Rights: rR | rMg}},
		{name: "no rights", src: all, rights: 0, want: caps.Cap{}},
		{name: "mint a badge", src: all, rights: rW, badge: 9, want: caps.Cap{Rights: rW, Badge: 9}},
		{name: "badge 0 keeps the badge", src: func(f *fixture) ipc.Handle { return f.badged }, rights: rW, want: caps.Cap{Rights: rW, Badge: 7}},
		{name: "same badge", src: func(f *fixture) ipc.Handle { return f.badged }, rights: rW, badge: 7, want: caps.Cap{Rights: rW, Badge: 7}},
		{name: "rebadge", src: func(f *fixture) ipc.Handle { return f.badged }, rights: rW, badge: 8, err: caps.ErrAttenuate},
		{name: "grow rights", src: func(f *fixture) ipc.Handle { return f.dupOnly }, rights: rR | rD | rW, err: caps.ErrAttenuate},
		{name: "unknown right", src: all, rights: rR | unknownRight, err: caps.ErrAttenuate},
		{name: "without RightDuplicate", src: func(f *fixture) ipc.Handle { return f.weak }, rights: rR, err: caps.ErrRights},
		{name: "rights checked before attenuation", src: func(f *fixture) ipc.Handle { return f.weak }, rights: rAll, err: caps.ErrRights},
		{name: "zero", src: func(f *fixture) ipc.Handle { return 0 }, rights: rR, err: caps.ErrBadHandle},
		{name: "closed", src: func(f *fixture) ipc.Handle { return f.closed }, rights: rR, err: caps.ErrBadHandle},
		{name: "full", table: func(f *fixture) *caps.Table { return f.full }, src: func(f *fixture) ipc.Handle { return f.inFull }, rights: rR, err: caps.ErrFull},
		{name: "attenuation checked before room", table: func(f *fixture) *caps.Table { return f.full }, src: func(f *fixture) ipc.Handle { return f.inFull }, rights: rAll, err: caps.ErrAttenuate},
		{name: "handle checked before room", table: func(f *fixture) *caps.Table { return f.full }, src: func(f *fixture) ipc.Handle { return 0 }, rights: rR, err: caps.ErrBadHandle},
		{name: "dead", table: func(f *fixture) *caps.Table { return f.dead }, src: func(f *fixture) ipc.Handle { return 1 }, rights: rR, err: caps.ErrDead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tb := f.a
			if tt.table != nil {
				tb = tt.table(f)
			}
			before := f.state()
			h, err := tb.Duplicate(tt.src(f), tt.rights, tt.badge)
			checkErr(t, "Duplicate", err, tt.err)
			if err != nil {
				f.unchanged(t, before)
				return
			}
			want := tt.want
			want.Object = f.ep
			f.derivedResult(t, tb, h, want)
		})
	}
}

func TestGrant(t *testing.T) {
	all := func(f *fixture) ipc.Handle { return f.all }
	toB := func(f *fixture) *caps.Table { return f.b }
	tests := []struct {
		name   string
		table  func(f *fixture) *caps.Table
		src    func(f *fixture) ipc.Handle
		dst    func(f *fixture) *caps.Table
		rights ipc.Rights
		want   caps.Cap // Object: the fixture's ep
		err    error
	}{
		{name: "attenuated", src: all, dst: toB, rights: rR | rW, want: caps.Cap{Rights: rR | rW}},
		{name: "badge kept", src: func(f *fixture) ipc.Handle { return f.badged }, dst: toB, rights: rW, want: caps.Cap{Rights: rW, Badge: 7}},
		{name: "into its own table", src: all, dst: func(f *fixture) *caps.Table { return f.a }, rights: rR, want: caps.Cap{Rights: rR}},
		{name: "onward from b", table: toB, src: func(f *fixture) ipc.Handle { return f.inB }, dst: func(f *fixture) *caps.Table { return f.a }, rights: rR, want: caps.Cap{Rights: rR}},
		{name: "grow rights", table: toB, src: func(f *fixture) ipc.Handle { return f.inB }, dst: toB, rights: rR | rW, err: caps.ErrAttenuate},
		{name: "unknown right", src: all, dst: toB, rights: rR | unknownRight, err: caps.ErrAttenuate},
		{name: "without RightGrant", src: func(f *fixture) ipc.Handle { return f.dupOnly }, dst: toB, rights: rR, err: caps.ErrRights},
		{name: "full", src: all, dst: func(f *fixture) *caps.Table { return f.full }, rights: rR, err: caps.ErrFull},
		{name: "into a dead table", src: all, dst: func(f *fixture) *caps.Table { return f.dead }, rights: rR, err: caps.ErrDead},
		{name: "from a dead table", table: func(f *fixture) *caps.Table { return f.dead }, src: all, dst: toB, rights: rR, err: caps.ErrDead},
		{name: "into another system", src: all, dst: func(f *fixture) *caps.Table { return f.foreign }, rights: rR, err: caps.ErrForeign},
		{name: "into nil", src: all, dst: func(f *fixture) *caps.Table { return nil }, rights: rR, err: caps.ErrForeign},
		{name: "stale", src: func(f *fixture) ipc.Handle { return f.all + 1<<32 }, dst: toB, rights: rR, err: caps.ErrBadHandle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tb := f.a
			if tt.table != nil {
				tb = tt.table(f)
			}
			dst := tt.dst(f)
			before := f.state()
			h, err := tb.Grant(tt.src(f), dst, tt.rights)
			checkErr(t, "Grant", err, tt.err)
			if err != nil {
				f.unchanged(t, before)
				return
			}
			want := tt.want
			want.Object = f.ep
			f.derivedResult(t, dst, h, want)
		})
	}
}
