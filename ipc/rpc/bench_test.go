package rpc_test

import (
	"context"
	"strings"
	"testing"

	"valence.dev/ipc"
	"valence.dev/ipc/rpc/echoproto"
)

// BenchmarkCall measures a whole typed call over the in-memory
// transport: encode, hand over to the serving goroutine, decode,
// dispatch, encode the reply, hand back, decode. It is the cost of the
// rpc layer and two goroutine switches, not of the kernel.
func BenchmarkCall(b *testing.B) {
	small, large := strings.Repeat("x", 64), strings.Repeat("x", ipc.MaxData-2)
	benchmarks := []struct {
		name string
		call func(c echoproto.Client) error
	}{
		{"Add", func(c echoproto.Client) error { _, err := c.Add(context.Background(), 1, 2); return err }},
		{"Echo/64B", func(c echoproto.Client) error {
			_, err := c.Echo(context.Background(), small)
			return err
		}},
		{"Echo/4KiB", func(c echoproto.Client) error {
			_, err := c.Echo(context.Background(), large)
			return err
		}},
		{"Stat", func(c echoproto.Client) error { _, err := c.Stat(context.Background(), true); return err }},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			s := serve(b, 1, nil)
			b.ReportAllocs()
			for b.Loop() {
				if err := bm.call(s.client); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
