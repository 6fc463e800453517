package stack_test

import (
	"bytes"
	"errors"
	"math/rand"
	"net/netip"
	"testing"
	"time"

	"valence.dev/servers/net/link"
	"valence.dev/servers/net/sim"
	"valence.dev/servers/net/socket"
	"valence.dev/servers/net/tcp"
)

// accept returns the next connection on l once one is established.
func accept(t *testing.T, n *sim.Network, l *tcp.Listener) *tcp.Conn {
	t.Helper()
	var c *tcp.Conn
	if !n.RunUntil(func() bool {
		var err error
		if c == nil {
			c, err = l.Accept()
			if err != nil && !errors.Is(err, socket.ErrWouldBlock) {
				t.Fatalf("Accept: %v", err)
			}
		}
		return c != nil
	}, time.Minute) {
		t.Fatalf("no connection accepted: %v", n)
	}
	return c
}

// connect dials from A to a listener on B and returns both ends.
func connect(t *testing.T, n *sim.Network, port uint16) (client, server *tcp.Conn) {
	t.Helper()
	l, err := n.B.ListenTCP(port, 16)
	if err != nil {
		t.Fatal(err)
	}
	client, err = n.A.DialTCP(netip.AddrPortFrom(sim.AddrB, port))
	if err != nil {
		t.Fatal(err)
	}
	server = accept(t, n, l)
	if !n.RunUntil(func() bool { return client.State() == tcp.Established }, time.Minute) {
		t.Fatalf("client state %v", client.State())
	}
	return client, server
}

func randomData(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func TestHandshakeAndClose(t *testing.T) {
	n := sim.New(sim.Options{Seed: 1})
	client, server := connect(t, n, 80)
	if got, want := server.ID().Remote, client.ID().Local; got != want {
		t.Errorf("server sees peer %v, want %v", got, want)
	}
	client.Close()
	sink := sim.ReadAll(server)
	n.RunFor(time.Second)
	if !sink.EOF {
		t.Fatalf("server did not see EOF; state %v", server.State())
	}
	if got := server.State(); got != tcp.CloseWait {
		t.Errorf("server state %v, want CLOSE-WAIT", got)
	}
	server.Close()
	n.RunFor(time.Second)
	if server.State() != tcp.Closed || client.State() != tcp.TimeWait {
		t.Fatalf("states: server %v, client %v", server.State(), client.State())
	}
	n.RunFor(2*tcp.DefaultConfig.MSL + time.Second)
	if client.State() != tcp.Closed || n.A.TCPConnections() != 0 || n.B.TCPConnections() != 0 {
		t.Errorf("after 2 MSL: client %v, connections %d/%d", client.State(), n.A.TCPConnections(), n.B.TCPConnections())
	}
}

func TestBulkTransfer(t *testing.T) {
	tests := []struct {
		name   string
		faults link.Faults
		size   int
		limit  time.Duration
	}{
		{"clean", link.Faults{Delay: time.Millisecond}, 4 << 20, 30 * time.Second},
		{"5% loss", link.Faults{Loss: 0.05, Delay: time.Millisecond}, 2 << 20, 5 * time.Minute},
		{"dup+reorder", link.Faults{Duplicate: 0.05, Reorder: 0.1, Delay: time.Millisecond, Jitter: time.Millisecond}, 2 << 20, 2 * time.Minute},
		{"bottleneck", link.Faults{Delay: 5 * time.Millisecond, Rate: 1 << 20, QueueLimit: 32}, 2 << 20, 2 * time.Minute},
		{"everything", link.Faults{Loss: 0.05, Duplicate: 0.02, Reorder: 0.05, Delay: 2 * time.Millisecond, Jitter: time.Millisecond}, 1 << 20, 5 * time.Minute},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := sim.New(sim.Options{Seed: int64(i + 10)})
			client, server := connect(t, n, 5001)
			n.Wire.SetFaults(tc.faults)
			data := randomData(int64(i), tc.size)
			src := sim.WriteAll(client, data, true)
			sink := sim.ReadAll(server)
			if !n.RunUntil(func() bool { return sink.EOF || sink.Err != nil }, tc.limit) {
				t.Fatalf("transfer incomplete: %d of %d bytes, sent %d: %v", len(sink.Data), len(data), src.Sent, n)
			}
			if sink.Err != nil || !bytes.Equal(sink.Data, data) {
				first := 0
				for first < min(len(data), len(sink.Data)) && data[first] == sink.Data[first] {
					first++
				}
				t.Fatalf("received %d bytes (err %v), differ from the %d sent at offset %d", len(sink.Data), sink.Err, len(data), first)
			}
			st := n.A.Stats().TCP
			t.Logf("%v: simulated %v, retransmits %d (fast %d, timeouts %d)", tc.name, n.Clock.Now(), st.Retransmits, st.FastRetransmits, st.Timeouts)
		})
	}
}
