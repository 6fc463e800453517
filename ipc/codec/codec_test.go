package codec_test

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"valence.dev/ipc"
	"valence.dev/ipc/codec"
)

// cat joins byte strings, to write expected encodings field by field.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func b(x ...byte) []byte { return x }

// allowUnexported lets cmp look at the unexported fields of the test
// types, which the codec must leave zero.
var allowUnexported = cmp.AllowUnexported(composite{}, embedded{})

// TestRoundTrip encodes values of every supported kind, checks the exact
// bytes and handles against the documented format, then decodes them and
// checks that the value comes back (or its canonical form, where that
// differs).
func TestRoundTrip(t *testing.T) {
	s200 := strings.Repeat("x", 200)
	tests := []struct {
		name        string
		in          any // a pointer to the value
		wantData    []byte
		wantHandles []ipc.Handle
		wantOut     any // the decoded value if not *in
	}{
		{name: "bool true", in: ptr(true), wantData: b(1)},
		{name: "bool false", in: ptr(false), wantData: b(0)},
		{name: "int8", in: ptr(int8(-1)), wantData: b(0xff)},
		{name: "int16", in: ptr(int16(0x0102)), wantData: b(2, 1)},
		{name: "int32", in: ptr(int32(-2)), wantData: b(0xfe, 0xff, 0xff, 0xff)},
		{name: "int64", in: ptr(int64(math.MinInt64)), wantData: b(0, 0, 0, 0, 0, 0, 0, 0x80)},
		{name: "int is 8 bytes", in: ptr(int(-3)), wantData: b(0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)},
		{name: "uint8", in: ptr(uint8(200)), wantData: b(200)},
		{name: "uint16", in: ptr(uint16(0xbeef)), wantData: b(0xef, 0xbe)},
		{name: "uint32", in: ptr(uint32(0xdeadbeef)), wantData: b(0xef, 0xbe, 0xad, 0xde)},
		{name: "uint64", in: ptr(uint64(1) << 63), wantData: b(0, 0, 0, 0, 0, 0, 0, 0x80)},
		{name: "uint is 8 bytes", in: ptr(uint(7)), wantData: b(7, 0, 0, 0, 0, 0, 0, 0)},
		{name: "float32", in: ptr(float32(1.5)), wantData: b(0, 0, 0xc0, 0x3f)},
		{name: "float64", in: ptr(-2.0), wantData: b(0, 0, 0, 0, 0, 0, 0, 0xc0)},
		{name: "float64 NaN payload kept", in: ptr(math.Float64frombits(0x7ff8000000000123)),
			wantData: b(0x23, 0x01, 0, 0, 0, 0, 0xf8, 0x7f)},
		{name: "empty string", in: ptr(""), wantData: b(0)},
		{name: "string", in: ptr("hi"), wantData: b(2, 'h', 'i')},
		{name: "string with two-byte length", in: ptr(s200), wantData: cat(b(0xc8, 0x01), []byte(s200))},
		{name: "nil bytes", in: ptr([]byte(nil)), wantData: b(0)},
		{name: "empty bytes decode as nil", in: ptr([]byte{}), wantData: b(0), wantOut: ptr([]byte(nil))},
		{name: "bytes", in: ptr([]byte{1, 2, 3}), wantData: b(3, 1, 2, 3)},
		{name: "named byte slice", in: ptr(blob{9}), wantData: b(1, 9)},
		{name: "byte array", in: ptr([3]byte{7, 8, 9}), wantData: b(7, 8, 9)},
		{name: "array", in: ptr([2]int16{-1, 2}), wantData: b(0xff, 0xff, 2, 0)},
		{name: "empty array", in: ptr([0]int64{}), wantData: b()},
		{name: "slice", in: ptr([]uint16{1, 0x0203}), wantData: b(2, 1, 0, 3, 2)},
		{name: "empty slice decodes as nil", in: ptr([]uint16{}), wantData: b(0), wantOut: ptr([]uint16(nil))},
		{name: "slice of slices", in: ptr([][]string{{"a"}, nil, {"", "b"}}),
			wantData: b(3, 1, 1, 'a', 0, 2, 0, 1, 'b')},
		{name: "empty struct", in: &empty{}, wantData: b()},
		{name: "scalars", in: &scalars{
			B: true, I8: -1, I16: -2, I32: -3, I64: -4, I: -5,
			U8: 1, U16: 2, U32: 3, U64: 4, U: 5, F32: 0.5, F64: 0.25, S: "ok",
		}, wantData: cat(
			b(1, 0xff), b(0xfe, 0xff), b(0xfd, 0xff, 0xff, 0xff),
			b(0xfc, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
			b(0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
			b(1), b(2, 0), b(3, 0, 0, 0), b(4, 0, 0, 0, 0, 0, 0, 0), b(5, 0, 0, 0, 0, 0, 0, 0),
			b(0, 0, 0, 0x3f), b(0, 0, 0, 0, 0, 0, 0xd0, 0x3f), b(2, 'o', 'k'),
		)},
		{name: "composite, skipped fields not sent", in: &composite{
			Code: 7, Blob: blob{0xaa}, Key: [4]byte{1, 2, 3, 4}, Pair: [2]uint16{5, 6},
			Words: []uint32{8}, Grid: [][]int8{{-1}, {}}, Inner: inner{Name: "n", Tags: []string{"t"}},
			Many: []inner{{}, {Name: "m"}}, Opt: &inner{Name: "o"}, Skipped: "no", private: 3,
		}, wantData: cat(
			b(7, 0, 0, 0), b(1, 0xaa), b(1, 2, 3, 4), b(5, 0, 6, 0), b(1, 8, 0, 0, 0),
			b(2, 1, 0xff, 0), b(1, 'n', 1, 1, 't'), b(2, 0, 0, 1, 'm', 0), b(1, 1, 'o', 0),
		), wantOut: &composite{
			Code: 7, Blob: blob{0xaa}, Key: [4]byte{1, 2, 3, 4}, Pair: [2]uint16{5, 6},
			Words: []uint32{8}, Grid: [][]int8{{-1}, nil}, Inner: inner{Name: "n", Tags: []string{"t"}},
			Many: []inner{{}, {Name: "m"}}, Opt: &inner{Name: "o"},
		}},
		{name: "nil pointer", in: &composite{}, wantData: cat(
			b(0, 0, 0, 0), b(0), b(0, 0, 0, 0), b(0, 0, 0, 0), b(0), b(0), b(0, 0), b(0), b(0),
		)},
		{name: "handles collected in order, zero takes no slot", in: &handles{
			A: 0x10, Note: "n", B: 0, More: []ipc.Handle{0x20, 0}, In: &withHandle{H: 0x30},
		}, wantData: b(1, 1, 'n', 0, 2, 2, 0, 1, 3), wantHandles: []ipc.Handle{0x10, 0x20, 0x30}},
		{name: "four handles is the limit", in: ptr([]ipc.Handle{1, 2, 3, 4}),
			wantData: b(4, 1, 2, 3, 4), wantHandles: []ipc.Handle{1, 2, 3, 4}},
		{name: "recursive", in: &node{Value: 1, Next: &node{Value: 2}, Children: []node{{Value: 3}}},
			wantData: b(1, 0, 1, 2, 0, 0, 0, 1, 3, 0, 0, 0)},
		{name: "embedded exported struct is a field, unexported skipped", in: &embedded{
			inner: inner{Name: "hidden"}, Inner2: inner{Name: "i"}, Base: Base{Code: 1},
			composite: composite{Code: 2}, ID: 9,
		}, wantData: cat(b(1, 'i', 0), b(1, 0, 0, 0), b(9)),
			wantOut: &embedded{Inner2: inner{Name: "i"}, Base: Base{Code: 1}, ID: 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m ipc.Message
			m.Label = 42
			if err := codec.Marshal(tt.in, &m); err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if diff := cmp.Diff(tt.wantData, m.Data[:m.DataLen], cmpBytes); diff != "" {
				t.Errorf("data (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantHandles, m.Handles[:m.NHandles], cmpBytes); diff != "" {
				t.Errorf("handles (-want +got):\n%s", diff)
			}
			if m.Label != 42 {
				t.Errorf("Label = %d, want 42 (Marshal must leave it)", m.Label)
			}
			out := reflect.New(reflect.TypeOf(tt.in).Elem())
			if err := codec.Unmarshal(&m, out.Interface()); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			want := tt.wantOut
			if want == nil {
				want = tt.in
			}
			if diff := cmp.Diff(want, out.Interface(), allowUnexported, nanEqual); diff != "" {
				t.Errorf("decoded (-want +got):\n%s", diff)
			}
		})
	}
}

// cmpBytes treats nil and empty slices alike where only the contents of
// a message matter.
var cmpBytes = cmp.FilterValues(func(x, y any) bool {
	vx, vy := reflect.ValueOf(x), reflect.ValueOf(y)
	return vx.Kind() == reflect.Slice && vy.Kind() == reflect.Slice && vx.Len() == 0 && vy.Len() == 0
}, cmp.Ignore())

// nanEqual compares floats by bits, so NaNs compare equal to themselves.
var nanEqual = cmp.Options{
	cmp.Comparer(func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) }),
	cmp.Comparer(func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) }),
}

func ptr[T any](v T) *T { return &v }

// TestMarshalByValue checks that a value and a pointer to it encode alike.
func TestMarshalByValue(t *testing.T) {
	in := composite{Code: 3, Key: [4]byte{1, 2, 3, 4}, Words: []uint32{1}}
	var byValue, byPointer ipc.Message
	if err := codec.Marshal(in, &byValue); err != nil {
		t.Fatal(err)
	}
	if err := codec.Marshal(&in, &byPointer); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(byPointer, byValue); diff != "" {
		t.Errorf("by value vs by pointer (-pointer +value):\n%s", diff)
	}
}

// TestUnmarshalZeroesFirst checks that nothing of the old value survives
// a decode, not even skipped or unexported fields.
func TestUnmarshalZeroesFirst(t *testing.T) {
	var m ipc.Message
	if err := codec.Marshal(&composite{Code: 1}, &m); err != nil {
		t.Fatal(err)
	}
	got := composite{Code: 9, Words: []uint32{1}, Opt: &inner{}, Skipped: "old", private: 5}
	if err := codec.Unmarshal(&m, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(composite{Code: 1}, got, allowUnexported); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
}

// TestMarshalClearsUnusedHandleSlots checks that handles of an earlier
// message in the same buffer are not sent again.
func TestMarshalClearsUnusedHandleSlots(t *testing.T) {
	var m ipc.Message
	m.Handles = [ipc.MaxHandles]ipc.Handle{9, 9, 9, 9}
	if err := codec.Marshal(&withHandle{H: 5}, &m); err != nil {
		t.Fatal(err)
	}
	want := [ipc.MaxHandles]ipc.Handle{5}
	if m.Handles != want || m.NHandles != 1 {
		t.Errorf("Handles = %v (NHandles %d), want %v (1)", m.Handles, m.NHandles, want)
	}
}
