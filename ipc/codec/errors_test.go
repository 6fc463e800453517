package codec_test

import (
	"errors"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"valence.dev/ipc"
	"valence.dev/ipc/codec"
)

func TestMarshalErrors(t *testing.T) {
	cyclic := &node{Value: 1}
	cyclic.Next = cyclic
	tests := []struct {
		name    string
		in      any
		wantErr error
		wantIn  string // a substring of the message, naming where it failed
	}{
		{name: "nil", in: nil, wantErr: codec.ErrNotPointer},
		{name: "nil pointer", in: (*scalars)(nil), wantErr: codec.ErrNotPointer},
		{name: "bytes one over", in: &payload{Data: make([]byte, ipc.MaxData-2+1)}, wantErr: codec.ErrTooBig},
		{name: "string over", in: ptr(strings.Repeat("s", ipc.MaxData)), wantErr: codec.ErrTooBig},
		{name: "slice over, caught before walking it", in: &words{W: make([]uint64, 1<<20)}, wantErr: codec.ErrTooBig},
		{name: "nested over", in: &composite{Many: make([]inner, 3000), Inner: inner{Tags: make([]string, 2000)}},
			wantErr: codec.ErrTooBig, wantIn: "Many"},
		{name: "cyclic pointers end in too big", in: cyclic, wantErr: codec.ErrTooBig, wantIn: "Next"},
		{name: "five handles", in: ptr([]ipc.Handle{1, 2, 3, 4, 5}), wantErr: codec.ErrTooManyHandles, wantIn: "[4]"},
		{name: "five handles across fields", in: &handles{A: 1, B: 2, More: []ipc.Handle{3, 4}, In: &withHandle{H: 5}},
			wantErr: codec.ErrTooManyHandles, wantIn: "In.H"},
		{name: "unsupported", in: &struct{ M map[int]int }{}, wantErr: codec.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m ipc.Message
			m.DataLen, m.NHandles, m.Handles[0] = 7, 1, 3 // must be cleared on error
			err := codec.Marshal(tt.in, &m)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Marshal: %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("Marshal: %q does not name %q", err, tt.wantIn)
			}
			if tt.wantErr == codec.ErrTooBig || tt.wantErr == codec.ErrTooManyHandles {
				if m.DataLen != 0 || m.NHandles != 0 || m.Handles != [ipc.MaxHandles]ipc.Handle{} {
					t.Errorf("after error: DataLen %d NHandles %d Handles %v, want all zero",
						m.DataLen, m.NHandles, m.Handles)
				}
			}
		})
	}
}

// TestMarshalExactFit checks that a value of exactly ipc.MaxData bytes is
// not too big.
func TestMarshalExactFit(t *testing.T) {
	var m ipc.Message
	in := payload{Data: make([]byte, ipc.MaxData-2)} // two-byte length prefix
	if err := codec.Marshal(&in, &m); err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if m.DataLen != ipc.MaxData {
		t.Errorf("DataLen = %d, want %d", m.DataLen, ipc.MaxData)
	}
}

// message builds a message with the given data and handles.
func message(data []byte, hs ...ipc.Handle) *ipc.Message {
	m := &ipc.Message{}
	m.DataLen = uint32(copy(m.Data[:], data))
	m.NHandles = uint32(copy(m.Handles[:], hs))
	return m
}

func TestUnmarshalMalformed(t *testing.T) {
	tooLong := message(nil)
	tooLong.DataLen = ipc.MaxData + 1
	tooMany := message(nil)
	tooMany.NHandles = ipc.MaxHandles + 1
	tests := []struct {
		name   string
		m      *ipc.Message
		into   any
		wantIn string
	}{
		{name: "DataLen over MaxData", m: tooLong, into: new(empty)},
		{name: "NHandles over MaxHandles", m: tooMany, into: new(empty)},
		{name: "empty for a number", m: message(nil), into: new(uint32)},
		{name: "truncated number", m: message(b(1, 2, 3)), into: new(uint32)},
		{name: "bool 2", m: message(b(2)), into: new(bool)},
		{name: "presence byte 2", m: message(cat(make([]byte, 18), b(2))), into: new(composite), wantIn: "Opt"},
		{name: "trailing garbage", m: message(b(1, 0)), into: new(bool)},
		{name: "trailing garbage after empty", m: message(b(0)), into: new(empty)},
		{name: "length past end", m: message(b(5, 'a')), into: new(string)},
		{name: "huge length", m: message(b(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)), into: new([]byte)},
		{name: "uvarint over 64 bits", m: message(b(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02)), into: new([]byte)},
		{name: "uvarint over 10 bytes", m: message(b(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0)), into: new(string)},
		{name: "truncated uvarint", m: message(b(0x80)), into: new(string)},
		{name: "non-minimal uvarint", m: message(b(0x81, 0x00, 'a')), into: new(string)},
		{name: "count past end for elements", m: message(b(3, 1, 0, 0, 0, 0, 0, 0, 0)), into: new(words), wantIn: "W"},
		{name: "error in a nested element", m: message(b(2, 0, 0, 5, 'x')), into: new([]inner), wantIn: "[1].Name"},
		{name: "pointer target past end", m: message(b(1)), into: new(*scalars)},
		{name: "handle index without handles", m: message(b(1)), into: new(withHandle), wantIn: "H"},
		{name: "handle index out of order", m: message(b(2, 1), 5, 6), into: new([2]ipc.Handle), wantIn: "[0]"},
		{name: "handle index repeated", m: message(b(1, 1), 5, 6), into: new([2]ipc.Handle), wantIn: "[1]"},
		{name: "zero handle in header", m: message(b(1), 0), into: new(withHandle)},
		{name: "handle sent but unused", m: message(b(0), 5), into: new(withHandle)},
		{name: "float32 signalling NaN", m: message(b(0x01, 0x00, 0x80, 0x7f)), into: new(float32)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := codec.Unmarshal(tt.m, tt.into)
			if !errors.Is(err, codec.ErrMalformed) {
				t.Fatalf("Unmarshal: %v, want %v", err, codec.ErrMalformed)
			}
			if !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("Unmarshal: %q does not name %q", err, tt.wantIn)
			}
		})
	}
}

func TestUnmarshalNotPointer(t *testing.T) {
	m := message(b(1))
	for _, into := range []any{nil, true, (*bool)(nil)} {
		if err := codec.Unmarshal(m, into); !errors.Is(err, codec.ErrNotPointer) {
			t.Errorf("Unmarshal into %#v: %v, want %v", into, err, codec.ErrNotPointer)
		}
	}
}

// TestUnmarshalOverflowInt checks the int range check through a type
// narrower than its encoding: int is always 8 bytes on the wire, and on
// a 32-bit machine not every such value fits. On 64-bit machines the
// check cannot fail, so this only checks the value comes through.
func TestUnmarshalOverflowInt(t *testing.T) {
	m := message(b(0, 0, 0, 0, 1, 0, 0, 0))
	var got int
	err := codec.Unmarshal(m, &got)
	if math.MaxInt == math.MaxInt32 {
		if !errors.Is(err, codec.ErrMalformed) {
			t.Errorf("Unmarshal 1<<32 into a 32-bit int: %v, want %v", err, codec.ErrMalformed)
		}
		return
	}
	if err != nil || got != 1<<32 {
		t.Errorf("Unmarshal = %d, %v; want %d", got, err, 1<<32)
	}
}

// TestUnmarshalAllocationBounded sends messages whose counts promise far
// more elements than their bytes could hold, and checks that decoding
// them allocates little: counts are checked before allocating.
func TestUnmarshalAllocationBounded(t *testing.T) {
	liars := []struct {
		m    *ipc.Message
		into func() any
	}{
		{message(b(0xff, 0xff, 0x03)), func() any { return new([]byte) }},
		{message(b(0xff, 0xff, 0x03, 1, 2, 3)), func() any { return new([]inner) }},
		{message(b(0xff, 0x1f)), func() any { return new([]node) }},
		{message(b(1)), func() any { return new(*[4000]byte) }},
	}
	for _, l := range liars { // warm the plan cache
		_ = codec.Unmarshal(l.m, l.into())
	}
	const rounds = 100
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range rounds {
		for _, l := range liars {
			if err := codec.Unmarshal(l.m, l.into()); !errors.Is(err, codec.ErrMalformed) {
				t.Fatalf("Unmarshal %T: %v, want %v", l.into(), err, codec.ErrMalformed)
			}
		}
	}
	runtime.ReadMemStats(&after)
	perCall := (after.TotalAlloc - before.TotalAlloc) / uint64(rounds*len(liars))
	if perCall > 1024 {
		t.Errorf("decoding a lying message allocated %d bytes per call, want at most 1024", perCall)
	}
}

// TestConcurrentFirstUse has many goroutines meet a type for the first
// time at once; run with -race.
func TestConcurrentFirstUse(t *testing.T) {
	type fresh struct {
		A []inner
		B *node
	}
	in := fresh{A: []inner{{Name: "a"}}, B: &node{Value: 4}}
	done := make(chan error)
	for range 16 {
		go func() {
			var m ipc.Message
			if err := codec.Marshal(&in, &m); err != nil {
				done <- err
				return
			}
			var out fresh
			if err := codec.Unmarshal(&m, &out); err != nil {
				done <- err
				return
			}
			if !reflect.DeepEqual(in, out) {
				done <- errors.New(cmp.Diff(in, out))
				return
			}
			done <- nil
		}()
	}
	for range 16 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
