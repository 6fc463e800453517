package netlink

import (
	"encoding/binary"
	"syscall"
	"testing"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

// FuzzRequest sends arbitrary bytes as one send, with the socket's
// options taken from the first byte, and reads every answer with reads
// of sizes taken from the second: every answer must be well-formed
// netlink (Go's parser takes it, lengths within the datagram), only of
// the types the kernel sends, answering a sequence number that was sent,
// and the socket must hold nothing once all is read.
func FuzzRequest(f *testing.F) {
	const req, ack, dumpF = linux.NLM_F_REQUEST, linux.NLM_F_ACK, linux.NLM_F_DUMP
	seeds := [][]byte{
		request(linux.RTM_GETLINK, req|dumpF, 1, []byte{0}),
		request(linux.RTM_GETADDR, req|dumpF, 1, ifaddrmsg(linux.AF_INET, 0)),
		request(linux.RTM_GETROUTE, req|dumpF, 1, rtmsg(linux.AF_INET)),
		request(linux.RTM_GETLINK, req|ack, 2, ifinfomsg(0), rtattr(linux.IFLA_IFNAME, []byte("eth0\x00"))),
		request(linux.RTM_GETROUTE, req, 3, rtmsg(linux.AF_INET), rtattr(linux.RTA_DST, []byte{8, 8, 8, 8})),
		request(linux.RTM_NEWADDR, req|ack, 4, ifaddrmsg(linux.AF_INET, 2)),
		request(linux.NLMSG_NOOP, ack, 5),
		append(request(linux.RTM_GETLINK, req|dumpF, 1, []byte{0}), request(linux.RTM_GETADDR, req|dumpF, 2, []byte{0})...),
	}
	for i, s := range seeds {
		f.Add(byte(i), byte(i*37), s)
	}
	f.Fuzz(func(t *testing.T, opts, sizes byte, b []byte) {
		fx := newFixture(t, qemuTable)
		if opts&16 != 0 {
			fx.table = bigTable()
		}
		fx.admin = opts&1 != 0
		for i, name := range []int32{linux.NETLINK_EXT_ACK, netlinkGetStrictChk, linux.NETLINK_CAP_ACK} {
			if opts&(2<<i) != 0 {
				fx.s.SetOpt(linux.SOL_NETLINK, name, []byte{1, 0, 0, 0})
			}
		}
		if _, e := fx.s.Send(fx.c, 1, b); e != 0 && e != errno.EMSGSIZE {
			t.Fatalf("Send: %v", e)
		}
		sent := map[uint32]bool{}
		for _, r := range SplitRequests(b) {
			if int(r.Header.Length) != len(r.Raw) || len(r.Payload) != len(r.Raw)-16 {
				t.Fatalf("request %+v of %d bytes", r.Header, len(r.Raw))
			}
			sent[r.Header.Seq] = true
		}
		for i := 0; ; i++ {
			n := []int{1 << 16, 4096, 16, 1, 0, 300}[(int(sizes)+i)%6]
			d, full, e := fx.s.Recv(fx.c, n, 0, true)
			if e == errno.EAGAIN {
				break
			}
			if e == errno.ENOBUFS {
				continue
			}
			if e != 0 {
				t.Fatalf("Recv: %v", e)
			}
			if len(d) != min(n, full) {
				t.Fatalf("Recv(%d) returned %d of %d bytes", n, len(d), full)
			}
			if len(d) < full {
				continue // truncated: its start is all there is
			}
			ms, err := syscall.ParseNetlinkMessage(d)
			if err != nil || len(ms) == 0 {
				t.Fatalf("answer % x: %v", d, err)
			}
			for _, m := range ms {
				switch m.Header.Type {
				case linux.NLMSG_ERROR:
					if len(m.Data) < 20 || int32(binary.NativeEndian.Uint32(m.Data)) > 0 {
						t.Fatalf("bad NLMSG_ERROR % x", m.Data)
					}
				case linux.NLMSG_DONE, linux.RTM_NEWLINK, linux.RTM_NEWADDR, linux.RTM_NEWROUTE:
				default:
					t.Fatalf("answer of type %d", m.Header.Type)
				}
				if !sent[m.Header.Seq] || m.Header.Pid != fx.s.Port() {
					t.Fatalf("answer %+v to nothing sent", m.Header)
				}
			}
		}
		fx.s.Release()
		if c := fx.charge.Load(); c != 0 {
			t.Fatalf("charge %d after reading all and closing", c)
		}
	})
}
