// Package eduproto is the protocol edud serves: the factorial its device
// computes. It is the example of docs/writing-a-driver.md.
//
//	Factorial  uint32 -> uint32   n!, computed by the device (mod 2^32)
package eduproto

import (
	"context"

	"valence.dev/ipc/rpc"
)

// Factorial asks the device for n!.
var Factorial = rpc.Method[uint32, uint32]{Label: 1, Name: "Factorial"}

// Protocol is the edu protocol.
var Protocol = rpc.NewProtocol("edu", Factorial.Def())

// Client calls edud.
type Client struct{ T rpc.Transport }

// Factorial returns n!, computed by the device.
func (c Client) Factorial(ctx context.Context, n uint32) (uint32, error) {
	return rpc.Call(ctx, c.T, Factorial, n)
}
