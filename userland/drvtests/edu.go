package main

import (
	"context"
	"fmt"

	"valence.dev/drivers/edu/eduproto"
	"valence.dev/libos"
)

// The tutorial's driver (docs/writing-a-driver.md): pcid starts edud for
// QEMU's edu device, and its factorials come from the device.

func init() { addTest("edu-factorial", testEduFactorial) }

func testEduFactorial(ctx context.Context) error {
	h, err := lookup(ctx, "edu0")
	if err != nil {
		return err
	}
	defer libos.Close(h)
	c := eduproto.Client{T: libos.Endpoint{H: h}}
	for n, want := range map[uint32]uint32{0: 1, 1: 1, 5: 120, 10: 3628800, 12: 479001600} {
		got, err := c.Factorial(ctx, n)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("edud says %d! = %d, want %d", n, got, want)
		}
	}
	return nil
}
