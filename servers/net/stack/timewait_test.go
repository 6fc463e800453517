package stack_test

import (
	"testing"
	"time"

	"valence.dev/servers/net/sim"
	"valence.dev/servers/net/tcp"
)

// TestTimeWaitReleasesBuffers: a connection in TIME-WAIT holds no
// buffers once nobody can read from it (closed), and keeps its receive
// buffer while its owner has data to read; it still answers a FIN sent
// again.
func TestTimeWaitReleasesBuffers(t *testing.T) {
	n := sim.New(sim.Options{Seed: 8})
	a, b := connect(t, n, 80)
	full := a.BufferBytes()
	if full == 0 {
		t.Fatal("an established connection has no buffers")
	}
	// A closes first and ends in TIME-WAIT.
	a.Close()
	sim.ReadAll(b)
	n.RunFor(time.Second)
	b.Close()
	n.RunFor(time.Second)
	if a.State() != tcp.TimeWait || a.BufferBytes() != 0 {
		t.Errorf("closed, in %v: %d bytes of buffers, want 0 (of %d)", a.State(), a.BufferBytes(), full)
	}

	// C only shuts down writing and has unread data when it gets there.
	c, d := connect(t, n, 81)
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Write([]byte("unread")); err != nil {
		t.Fatal(err)
	}
	n.RunFor(time.Second)
	sim.ReadAll(d)
	d.Close()
	n.RunFor(time.Second)
	if c.State() != tcp.TimeWait || c.BufferBytes() == 0 || c.Buffered() != 6 {
		t.Fatalf("in %v: %d bytes of buffers, %d unread", c.State(), c.BufferBytes(), c.Buffered())
	}
	buf := make([]byte, 16)
	if k, err := c.Read(buf); k != 6 || string(buf[:k]) != "unread" {
		t.Errorf("Read in TIME-WAIT: %q, %v", buf[:k], err)
	}
	c.Close()
	if c.BufferBytes() != 0 {
		t.Errorf("closed in TIME-WAIT: %d bytes of buffers", c.BufferBytes())
	}
	n.RunFor(3 * tcp.DefaultConfig.MSL)
	if n.A.TCPConnections() != 0 {
		t.Errorf("%d connections left", n.A.TCPConnections())
	}
}
