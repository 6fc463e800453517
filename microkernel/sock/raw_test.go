package sock

import (
	"testing"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile/kfiletest"
	"valence.dev/servers/net/sockproto"
)

// TestRawICMP: a raw socket needs NetRaw; made, it sends an echo request
// to 127.0.0.1 it built itself and blocks until it reads its own request
// and then the reply, each behind its IP header, the reply's length
// reported whole under MSG_TRUNC.
func TestRawICMP(t *testing.T) {
	r := newRig(t)
	c := kfiletest.NewCaller(1)
	req := sockproto.SocketRequest{Family: linux.AF_INET, Type: uint16(linux.SOCK_RAW), Protocol: linux.IPPROTO_ICMP}
	if _, e := r.net.Open(c, req); e != errno.EPERM {
		t.Fatalf("a raw socket without CAP_NET_RAW: %v, want EPERM", e)
	}
	req.NetRaw = true
	s, e := r.net.Open(c, req)
	if e != 0 {
		t.Fatal(e)
	}
	defer s.Release()
	if s.Type() != uint16(linux.SOCK_RAW) {
		t.Errorf("type %d", s.Type())
	}
	// Type 8, code 0, checksum, id 0x0102, seq 3.
	msg := []byte{8, 0, 0xf6, 0xfa, 1, 2, 0, 3}
	if n, e := s.SendTo(c, msg, 0, loopback, false); n != len(msg) || e != 0 {
		t.Fatalf("sendto: %d, %v", n, e)
	}
	for _, want := range []byte{8, 0} {
		buf := make([]byte, 100)
		n, full, from, e := s.RecvFrom(c, buf, 0, false)
		if e != 0 || n != 28 || full != 28 || from.Port != 0 || buf[0] != 0x45 || buf[9] != 1 || buf[20] != want {
			t.Errorf("recvfrom: %d of %d from %+v, %v: % x; want type %d", n, full, from, e, buf[:n], want)
		}
	}
	if _, e := s.SendTo(c, msg, 0, loopback, false); e != 0 {
		t.Fatal(e)
	}
	buf := make([]byte, 4)
	if n, full, _, e := s.RecvFrom(c, buf, linux.MSG_TRUNC, false); e != 0 || n != 4 || full != 28 {
		t.Errorf("a short read: %d of %d, %v", n, full, e)
	}
	if _, e := s.SendTo(c, make([]byte, 70000), 0, loopback, false); e != errno.EMSGSIZE {
		t.Errorf("a 70000-byte message: %v, want EMSGSIZE", e)
	}
	// Status carries the counters, which saw the echo requests sent.
	st, e := r.net.Status(c)
	if e != 0 || st.SNMP.DefaultTTL != 64 || len(st.SNMP.ICMPMsg) == 0 || st.SNMP.ICMP.OutMsgs < 2 {
		t.Errorf("Status: %+v, %v", st.SNMP, e)
	}
	if sum, e := r.net.Summary(c); e != 0 || sum.SNMP.ICMP.OutMsgs != st.SNMP.ICMP.OutMsgs || len(sum.Interfaces) != 2 {
		t.Errorf("Summary: %+v, %v", sum, e)
	}
}
