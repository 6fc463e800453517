package stack_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"testing"
	"time"

	"valence.dev/servers/net/link"
	"valence.dev/servers/net/services"
	"valence.dev/servers/net/sim"
	"valence.dev/servers/net/socket"
	"valence.dev/servers/net/stack"
	"valence.dev/servers/net/tcp"
)

// TestStreamServices runs the event-driven services on B and a client on
// A that writes, half-closes and reads the answer, on a clean and a lossy
// wire.
func TestStreamServices(t *testing.T) {
	data := randomData(5, 300<<10)
	sum := sha256.Sum256(data)
	tests := []struct {
		name  string
		serve func(*stack.Stack, uint16) (*tcp.Listener, error)
		want  []byte
	}{
		{"echo", services.ServeEcho, data},
		{"discard", services.ServeDiscard, nil},
		{"checksum", services.ServeChecksum, []byte(hex.EncodeToString(sum[:]) + "\n")},
	}
	for _, tc := range tests {
		for _, f := range []link.Faults{{}, {Loss: 0.05, Delay: time.Millisecond}} {
			n := sim.New(sim.Options{Seed: 3, Faults: f})
			if _, err := tc.serve(n.B, 1000); err != nil {
				t.Fatal(err)
			}
			c, err := n.A.DialTCP(netip.AddrPortFrom(sim.AddrB, 1000))
			if err != nil {
				t.Fatal(err)
			}
			src := sim.WriteAll(c, data, true)
			sink := sim.ReadAll(c)
			// One callback feeds both directions.
			c.SetNotify(func(socket.Events) { src.Pump(); sink.Drain() })
			n.Flush()
			if !n.RunUntil(func() bool { return sink.EOF || sink.Err != nil }, 5*time.Minute) {
				t.Fatalf("%s, faults %+v: got %d bytes (sent %d): %v\nclient: %v\nserver: %v",
					tc.name, f, len(sink.Data), src.Sent, n, c, n.B.DescribeTCP())
			}
			if !bytes.Equal(sink.Data, tc.want) {
				t.Errorf("%s, faults %+v: got %d bytes, want %d", tc.name, f, len(sink.Data), len(tc.want))
			}
		}
	}
}
