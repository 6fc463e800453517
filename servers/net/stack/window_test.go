package stack_test

import (
	"bytes"
	"testing"
	"time"

	"valence.dev/servers/net/sim"
)

// TestReceiverAsleep: the receiving application does not read for an
// hour, so the window closes and the sender probes it; then it reads
// everything. The window must never promise more than the buffer holds:
// rounded up to the window scale, it once did, and the sender
// retransmitted into a full buffer until it gave up (ETIMEDOUT).
func TestReceiverAsleep(t *testing.T) {
	n := sim.New(sim.Options{Seed: 1})
	a, b := connect(t, n, 80)
	data := randomData(1, 1<<20)
	src := sim.WriteAll(b, data, true)
	n.RunFor(time.Hour)
	if src.Err != nil {
		t.Fatalf("sender failed while the receiver slept: %v\nA %v\nB %v", src.Err, a, b)
	}
	sink := sim.ReadAll(a)
	if !n.RunUntil(func() bool { return sink.EOF || sink.Err != nil }, time.Minute) || sink.Err != nil {
		t.Fatalf("got %d bytes, err %v\nA %v\nB %v", len(sink.Data), sink.Err, a, b)
	}
	if !bytes.Equal(sink.Data, data) {
		t.Errorf("got %d bytes that differ from the %d sent", len(sink.Data), len(data))
	}
}
