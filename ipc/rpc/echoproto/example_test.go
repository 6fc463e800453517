package echoproto_test

import (
	"context"
	"errors"
	"fmt"
	"math"

	"valence.dev/ipc/rpc/echoproto"
	"valence.dev/ipc/rpc/memtransport"
)

// adder implements the echo protocol; only Add does anything.
type adder struct{}

func (adder) Echo(ctx context.Context, badge uint64, s string) (string, error) { return s, nil }

func (adder) Add(ctx context.Context, badge uint64, req echoproto.AddRequest) (int64, error) {
	if (req.B > 0 && req.A > math.MaxInt64-req.B) || (req.B < 0 && req.A < math.MinInt64-req.B) {
		return 0, echoproto.ErrOverflow
	}
	return req.A + req.B, nil
}

func (adder) PassHandle(ctx context.Context, badge uint64, req echoproto.HandleRequest) (echoproto.HandleReply, error) {
	return echoproto.HandleReply{Received: req.H}, nil
}

func (adder) Stat(ctx context.Context, badge uint64, req echoproto.StatRequest) (echoproto.Stats, error) {
	return echoproto.Stats{Name: "adder"}, nil
}

// A server and a client of the echo protocol, connected in memory. In
// the OS the transports come from libos instead; nothing else changes.
func Example() {
	ctx := context.Background()
	client, end := memtransport.New()
	defer end.Close()
	go echoproto.NewServer(adder{}).Serve(ctx, end)

	c := echoproto.Client{T: client}
	sum, err := c.Add(ctx, 40, 2)
	fmt.Println(sum, err)

	_, err = c.Add(ctx, math.MaxInt64, 1)
	fmt.Println(errors.Is(err, echoproto.ErrOverflow), err)

	end.Close() // the server dies
	_, err = c.Add(ctx, 1, 1)
	fmt.Println(err)
	// Output:
	// 42 <nil>
	// true rpc: Add: echo: sum overflows int64
	// rpc: Add: owner died
}
