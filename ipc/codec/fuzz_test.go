package codec_test

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
	"valence.dev/ipc"
	"valence.dev/ipc/codec"
)

// fuzzTargets are the types FuzzUnmarshal decodes every input into.
var fuzzTargets = []func() any{
	func() any { return new(scalars) },
	func() any { return new(composite) },
	func() any { return new(handles) },
	func() any { return new(node) },
	func() any { return new(string) },
	func() any { return new([]ipc.Handle) },
	func() any { return new(*inner) },
	func() any { return new([]float32) },
	func() any { return new(mixed) },
}

// FuzzUnmarshal decodes arbitrary messages into each target type. It
// must never panic, fail only with ErrMalformed, and whenever it succeeds
// encoding the value again must give back exactly the input: the
// encoding is canonical.
func FuzzUnmarshal(f *testing.F) {
	seeds := []any{
		&scalars{B: true, I: -1, F32: 1, S: "s"},
		&composite{Words: []uint32{1, 2}, Opt: &inner{Tags: []string{"a", "b"}}, Many: []inner{{}}},
		&handles{A: 1, More: []ipc.Handle{0, 2}, In: &withHandle{H: 3}},
		&node{Value: 1, Next: &node{}, Children: []node{{Next: &node{}}}},
		ptr("hello"),
		ptr([]ipc.Handle{5, 0, 6}),
		ptr(&inner{Name: "x"}),
		ptr([]float32{float32(math.Inf(1)), float32(math.NaN())}),
	}
	for _, s := range seeds {
		var m ipc.Message
		if err := codec.Marshal(s, &m); err != nil {
			f.Fatalf("seed %T: %v", s, err)
		}
		h := m.Handles
		f.Add(m.Data[:m.DataLen], uint8(m.NHandles), uint64(h[0]), uint64(h[1]), uint64(h[2]), uint64(h[3]))
	}
	f.Add([]byte{0x80, 0x00}, uint8(0), uint64(0), uint64(0), uint64(0), uint64(0))
	f.Fuzz(func(t *testing.T, data []byte, nh uint8, h0, h1, h2, h3 uint64) {
		in := &ipc.Message{}
		in.DataLen = uint32(len(data)) // may exceed MaxData: must be rejected
		copy(in.Data[:], data)
		in.NHandles = uint32(nh)
		in.Handles = [ipc.MaxHandles]ipc.Handle{ipc.Handle(h0), ipc.Handle(h1), ipc.Handle(h2), ipc.Handle(h3)}
		for _, target := range fuzzTargets {
			v := target()
			err := codec.Unmarshal(in, v)
			if err != nil {
				if !errors.Is(err, codec.ErrMalformed) {
					t.Fatalf("Unmarshal %T: %v, want an error wrapping ErrMalformed", v, err)
				}
				continue
			}
			var out ipc.Message
			if err := codec.Marshal(v, &out); err != nil {
				t.Fatalf("Marshal %T after Unmarshal: %v", v, err)
			}
			if !bytes.Equal(out.Data[:out.DataLen], data) {
				t.Fatalf("%T: not canonical\n input %x\noutput %x", v, data, out.Data[:out.DataLen])
			}
			if diff := cmp.Diff(in.Handles[:in.NHandles], out.Handles[:out.NHandles]); diff != "" {
				t.Fatalf("%T: handles not canonical (-in +out):\n%s", v, diff)
			}
		}
	})
}

// mixed holds a bit of every kind, for FuzzRoundTrip.
type mixed struct {
	Scalars scalars
	Comp    composite
	Hs      handles
	Tree    *node
	F32s    []float32
}

// FuzzRoundTrip builds a value from the fuzzer's inputs, encodes it, and
// checks that it decodes to the same value and encodes to the same bytes
// again. Values too big or with too many handles must fail cleanly.
func FuzzRoundTrip(f *testing.F) {
	f.Add(int64(-1), uint32(7), 1.5, "name", []byte{1, 2}, true, uint64(9), uint8(3))
	f.Add(int64(0), uint32(0), math.NaN(), "", []byte(nil), false, uint64(0), uint8(0))
	f.Add(int64(math.MaxInt64), uint32(math.MaxUint32), math.Inf(-1), string(make([]byte, 3000)), make([]byte, 1500), true, uint64(1)<<63, uint8(255))
	f.Fuzz(func(t *testing.T, i int64, u uint32, fl float64, s string, bs []byte, flag bool, h uint64, n uint8) {
		v := buildMixed(i, u, fl, s, bs, flag, ipc.Handle(h), int(n))
		var m ipc.Message
		if err := codec.Marshal(v, &m); err != nil {
			if errors.Is(err, codec.ErrTooBig) || errors.Is(err, codec.ErrTooManyHandles) {
				return
			}
			t.Fatalf("Marshal: %v", err)
		}
		var got mixed
		if err := codec.Unmarshal(&m, &got); err != nil {
			t.Fatalf("Unmarshal: %v\ndata %x", err, m.Data[:m.DataLen])
		}
		if !sameMixed(v, &got) {
			t.Fatalf("round trip (-sent +got):\n%s", cmp.Diff(v, &got, nanEqual, allowUnexported))
		}
		var again ipc.Message
		if err := codec.Marshal(&got, &again); err != nil {
			t.Fatalf("Marshal again: %v", err)
		}
		if again.Header != m.Header || !bytes.Equal(again.Data[:again.DataLen], m.Data[:m.DataLen]) {
			t.Fatalf("second encoding differs:\n first %x %+v\nsecond %x %+v",
				m.Data[:m.DataLen], m.Header, again.Data[:again.DataLen], again.Header)
		}
	})
}

func buildMixed(i int64, u uint32, fl float64, s string, bs []byte, flag bool, h ipc.Handle, n int) *mixed {
	v := &mixed{
		Scalars: scalars{
			B: flag, I8: int8(i), I16: int16(i), I32: int32(i), I64: i, I: int(i),
			U8: uint8(u), U16: uint16(u), U32: u, U64: uint64(u) << 20, U: uint(u),
			F32: float32(fl), F64: fl, S: s,
		},
		Comp: composite{
			Code: code(u), Blob: blob(orNil(bs)), Words: orNil(make([]uint32, n%5)),
			Grid:  orNil(make([][]int8, n%3)),
			Inner: inner{Name: s, Tags: orNil(make([]string, n%4))},
		},
		Hs: handles{A: h, Note: s, More: orNil(make([]ipc.Handle, n%6))},
	}
	copy(v.Comp.Key[:], bs)
	for k := range v.Hs.More {
		v.Hs.More[k] = h + ipc.Handle(k)
	}
	if flag {
		v.Comp.Opt = &inner{Name: "opt"}
		v.Hs.In = &withHandle{H: h}
	}
	for k := range n % 7 {
		v.Tree = &node{Value: int16(k), Next: v.Tree, Children: orNil(make([]node, k%2))}
		v.F32s = append(v.F32s, float32(fl)*float32(k))
	}
	return v
}

// orNil returns s, or nil if it is empty: the form Unmarshal returns.
func orNil[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return s
}

// sameMixed is reflect.DeepEqual with floats compared by their bits, so
// that a NaN equals itself. (cmp.Diff with a float Comparer does the
// same but is far too slow for the fuzzer's inner loop.)
func sameMixed(a, b *mixed) bool {
	if math.Float32bits(a.Scalars.F32) != math.Float32bits(b.Scalars.F32) ||
		math.Float64bits(a.Scalars.F64) != math.Float64bits(b.Scalars.F64) ||
		len(a.F32s) != len(b.F32s) {
		return false
	}
	for i := range a.F32s {
		if math.Float32bits(a.F32s[i]) != math.Float32bits(b.F32s[i]) {
			return false
		}
	}
	a2, b2 := *a, *b
	a2.Scalars.F32, a2.Scalars.F64, a2.F32s = 0, 0, nil
	b2.Scalars.F32, b2.Scalars.F64, b2.F32s = 0, 0, nil
	return reflect.DeepEqual(&a2, &b2)
}
