package codec_test

import (
	"testing"

	"valence.dev/ipc"
	"valence.dev/ipc/codec"
)

// benchValues are payloads of 64 bytes and of 4 KiB, as one byte string
// (a single copy) and as 64-bit words (one reflect step per element).
var benchValues = []struct {
	name string
	v    func() any
}{
	{"bytes/64B", func() any { return &payload{Data: make([]byte, 64)} }},
	{"bytes/4KiB", func() any { return &payload{Data: make([]byte, ipc.MaxData-2)} }},
	{"words/64B", func() any { return &words{W: make([]uint64, 8)} }},
	{"words/4KiB", func() any { return &words{W: make([]uint64, (ipc.MaxData-2)/8)} }},
	{"struct", func() any {
		return &composite{Code: 1, Blob: blob("blob"), Words: []uint32{1, 2, 3},
			Inner: inner{Name: "inner", Tags: []string{"a", "b"}}, Opt: &inner{Name: "opt"}}
	}},
}

func BenchmarkMarshal(b *testing.B) {
	for _, bv := range benchValues {
		b.Run(bv.name, func(b *testing.B) {
			v := bv.v()
			var m ipc.Message
			if err := codec.Marshal(v, &m); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(m.DataLen))
			b.ReportAllocs()
			for b.Loop() {
				if err := codec.Marshal(v, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	for _, bv := range benchValues {
		b.Run(bv.name, func(b *testing.B) {
			v := bv.v()
			var m ipc.Message
			if err := codec.Marshal(v, &m); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(m.DataLen))
			b.ReportAllocs()
			for b.Loop() {
				if err := codec.Unmarshal(&m, v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
