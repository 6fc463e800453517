package unixsock

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"gvisor.dev/gvisor/pkg/abi/linux"
)

// TestStatus: what /proc/net/unix learns of sockets in each state.
func TestStatus(t *testing.T) {
	d := newTestDomain()
	var o testOwner
	l, _ := d.NewSocket(linux.SOCK_STREAM, o.owner(1, 10))
	if e := l.BindAbstract("\x00srv"); e != 0 {
		t.Fatal(e)
	}
	if e := l.Listen(4); e != 0 {
		t.Fatal(e)
	}
	c, _ := d.NewSocket(linux.SOCK_STREAM, o.owner(1, 10))
	if e := c.Connect(caller(), l, true); e != 0 {
		t.Fatal(e)
	}
	a, b := mustPair(t, d, linux.SOCK_SEQPACKET, o.owner(1, 10))
	g, _ := d.NewSocket(linux.SOCK_DGRAM, o.owner(1, 10))
	h, _ := d.NewSocket(linux.SOCK_DGRAM, o.owner(1, 10))
	if e := h.Connect(caller(), g, true); e != 0 {
		t.Fatal(e)
	}
	type got struct {
		St      Status
		Pending []Status
	}
	status := func(s *Socket) got { st, p := s.Status(); return got{st, p} }
	tests := []struct {
		name string
		s    *Socket
		want got
	}{
		{"listener", l, got{Status{Type: linux.SOCK_STREAM, Ino: l.Ino(), Name: "\x00srv", Listening: true},
			// The connection carries the listener's name, as on Linux.
			[]Status{{Type: linux.SOCK_STREAM, Ino: l.Ino() + 2, Name: "\x00srv", Embryo: true, Connected: true}}}},
		{"client", c, got{St: Status{Type: linux.SOCK_STREAM, Ino: c.Ino(), Connected: true}}},
		{"pair", a, got{St: Status{Type: linux.SOCK_SEQPACKET, Ino: a.Ino(), Connected: true}}},
		{"pair's other end", b, got{St: Status{Type: linux.SOCK_SEQPACKET, Ino: b.Ino(), Connected: true}}},
		{"datagram", g, got{St: Status{Type: linux.SOCK_DGRAM, Ino: g.Ino()}}},
		{"connected datagram", h, got{St: Status{Type: linux.SOCK_DGRAM, Ino: h.Ino(), Connected: true}}},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, status(tc.s)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}
