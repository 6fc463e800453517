package netlink

import (
	"bytes"
	"encoding/binary"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

// outcome is one answer datagram in brief: a message type, and for
// NLMSG_ERROR its errno.
type outcome struct {
	Type  uint16
	Errno errno.Errno
	Seq   uint32
}

func outcomes(t *testing.T, datagrams [][]byte) []outcome {
	var out []outcome
	for _, m := range messages(t, datagrams) {
		o := outcome{Type: m.Header.Type, Seq: m.Header.Seq}
		if m.Header.Type == linux.NLMSG_ERROR {
			o.Errno = errnoOf(t, m)
		}
		out = append(out, o)
	}
	return out
}

func TestRequests(t *testing.T) {
	const req, ack, dumpF = linux.NLM_F_REQUEST, linux.NLM_F_ACK, linux.NLM_F_DUMP
	nameAttr := func(s string) []byte { return rtattr(linux.IFLA_IFNAME, append([]byte(s), 0)) }
	dst := func(a ...byte) []byte { return rtattr(linux.RTA_DST, a) }
	lie := func(b []byte, n uint32) []byte {
		b = bytes.Clone(b)
		binary.NativeEndian.PutUint32(b, n)
		return b
	}
	getLink := request(linux.RTM_GETLINK, req, 5, ifinfomsg(2))
	E := func(e errno.Errno, seq uint32) outcome { return outcome{Type: linux.NLMSG_ERROR, Errno: e, Seq: seq} }
	tests := []struct {
		name  string
		in    []byte
		admin bool
		want  []outcome
	}{
		{"nothing", nil, false, nil},
		{"truncated header", getLink[:15], false, nil},
		{"nlmsg_len 0", lie(getLink, 0), false, nil},
		{"nlmsg_len below the header", lie(getLink, 15), false, nil},
		{"nlmsg_len beyond the send", lie(getLink, 1<<31), false, nil},
		{"nlmsg_len one byte long", lie(getLink, uint32(len(getLink)+1)), false, nil},
		{"not a request, acked", request(linux.RTM_GETLINK, ack, 1, ifinfomsg(1)), false, []outcome{E(0, 1)}},
		{"not a request, not acked", request(linux.RTM_GETLINK, 0, 1, ifinfomsg(1)), false, nil},
		{"control message acked", request(linux.NLMSG_NOOP, req|ack, 2), false, []outcome{E(0, 2)}},
		{"type beyond RTM_MAX", request(200, req, 3, []byte{0}), false, []outcome{E(errno.EOPNOTSUPP, 3)}},
		{"no family byte", request(linux.RTM_GETLINK, req|dumpF, 3), false, nil},
		{"no family byte, acked", request(linux.RTM_GETLINK, req|ack|dumpF, 3), false, []outcome{E(0, 3)}},
		{"new address, unprivileged", request(linux.RTM_NEWADDR, req|ack, 4, ifaddrmsg(linux.AF_INET, 2)), false, []outcome{E(errno.EPERM, 4)}},
		{"new address, admin", request(linux.RTM_NEWADDR, req|ack, 4, ifaddrmsg(linux.AF_INET, 2)), true, []outcome{E(errno.EOPNOTSUPP, 4)}},
		{"delete link", request(linux.RTM_DELLINK, req, 4, ifinfomsg(2)), true, []outcome{E(errno.EOPNOTSUPP, 4)}},
		{"set link", request(linux.RTM_SETLINK, req, 4, ifinfomsg(2)), true, []outcome{E(errno.EOPNOTSUPP, 4)}},
		{"new route", request(linux.RTM_NEWROUTE, req, 4, rtmsg(linux.AF_INET)), true, []outcome{E(errno.EOPNOTSUPP, 4)}},
		{"dump neighbours", request(linux.RTM_GETNEIGH, req|dumpF, 6, []byte{0}), false, []outcome{E(errno.EOPNOTSUPP, 6)}},
		{"get address without dump", request(linux.RTM_GETADDR, req, 6, ifaddrmsg(linux.AF_INET, 1)), false, []outcome{E(errno.EOPNOTSUPP, 6)}},
		{"link by index", getLink, false, []outcome{{Type: linux.RTM_NEWLINK, Seq: 5}}},
		{"link by index, acked", request(linux.RTM_GETLINK, req|ack, 5, ifinfomsg(1)), false,
			[]outcome{{Type: linux.RTM_NEWLINK, Seq: 5}, E(0, 5)}},
		{"link by name", request(linux.RTM_GETLINK, req|ack, 7, ifinfomsg(0), nameAttr("eth0")), false,
			[]outcome{{Type: linux.RTM_NEWLINK, Seq: 7}, E(0, 7)}},
		{"link by alternative name", request(linux.RTM_GETLINK, req, 7, ifinfomsg(0), rtattr(iflaAltIfname, []byte("lo\x00"))), false,
			[]outcome{{Type: linux.RTM_NEWLINK, Seq: 7}}},
		{"no such index", request(linux.RTM_GETLINK, req|ack, 8, ifinfomsg(9)), false, []outcome{E(errno.ENODEV, 8)}},
		{"negative index, no name", request(linux.RTM_GETLINK, req, 8, ifinfomsg(-1)), false, []outcome{E(errno.EINVAL, 8)}},
		{"no such name", request(linux.RTM_GETLINK, req, 8, ifinfomsg(0), nameAttr("wlan0")), false, []outcome{E(errno.ENODEV, 8)}},
		{"name too long", request(linux.RTM_GETLINK, req, 8, ifinfomsg(0), nameAttr(strings.Repeat("n", 16))), false, []outcome{E(errno.ERANGE, 8)}},
		{"neither index nor name", request(linux.RTM_GETLINK, req, 8, ifinfomsg(0)), false, []outcome{E(errno.EINVAL, 8)}},
		{"short ifinfomsg", request(linux.RTM_GETLINK, req, 8, []byte{0, 0, 0, 0}), false, []outcome{E(errno.EINVAL, 8)}},
		{"broken attribute", request(linux.RTM_GETLINK, req, 8, ifinfomsg(0), []byte{200, 0, 3, 0, 'l', 'o', 0, 0}), false, []outcome{E(errno.EINVAL, 8)}},
		{"route get", request(linux.RTM_GETROUTE, req, 9, rtmsg(linux.AF_INET), dst(1, 1, 1, 1)), false, []outcome{{Type: linux.RTM_NEWROUTE, Seq: 9}}},
		{"route get IPv6", request(linux.RTM_GETROUTE, req, 9, rtmsg(linux.AF_INET6), rtattr(linux.RTA_DST, make([]byte, 16))), false, []outcome{E(errno.ENETUNREACH, 9)}},
		{"route get without RTA_DST", request(linux.RTM_GETROUTE, req, 9, rtmsg(linux.AF_INET)), false, []outcome{E(errno.EINVAL, 9)}},
		{"route get by oif", request(linux.RTM_GETROUTE, req, 9, rtmsg(linux.AF_INET), dst(1, 1, 1, 1), rtattr(linux.RTA_OIF, []byte{1, 0, 0, 0})), false, []outcome{E(errno.EOPNOTSUPP, 9)}},
		{"route get short", request(linux.RTM_GETROUTE, req, 9, []byte{linux.AF_INET}), false, []outcome{E(errno.EINVAL, 9)}},
		{"two dumps, the first done at once", append(request(linux.RTM_GETLINK, req|dumpF, 10, []byte{0}), request(linux.RTM_GETADDR, req|dumpF, 11, []byte{0})...), false,
			[]outcome{{Type: linux.RTM_NEWLINK, Seq: 10}, {Type: linux.RTM_NEWLINK, Seq: 10}, {Type: linux.NLMSG_DONE, Seq: 10},
				{Type: linux.RTM_NEWADDR, Seq: 11}, {Type: linux.RTM_NEWADDR, Seq: 11}, {Type: linux.NLMSG_DONE, Seq: 11}}},
		{"requests after a bad length are not read", append(lie(getLink, 3), getLink...), false, nil},
		{"requests in a row", append(append(getLink, request(linux.RTM_NEWLINK, req, 12, ifinfomsg(1))...), getLink...), false,
			[]outcome{{Type: linux.RTM_NEWLINK, Seq: 5}, E(errno.EPERM, 12), {Type: linux.RTM_NEWLINK, Seq: 5}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, qemuTable)
			f.admin = tc.admin
			f.send(tc.in)
			if diff := cmp.Diff(tc.want, outcomes(t, f.recvAll(1<<16))); diff != "" {
				t.Errorf("answers (-want +got):\n%s", diff)
			}
		})
	}
}

// TestErrorEcho: an error echoes the request whole, an acknowledgment
// only its header (NLM_F_CAPPED), and NETLINK_CAP_ACK caps errors too;
// NETLINK_EXT_ACK adds an explanation.
func TestErrorEcho(t *testing.T) {
	bad := request(linux.RTM_NEWADDR, linux.NLM_F_REQUEST|linux.NLM_F_ACK, 3, ifaddrmsg(linux.AF_INET, 2), rtattr(linux.IFA_LOCAL, []byte{1, 2, 3, 4}))
	good := request(linux.RTM_GETLINK, linux.NLM_F_REQUEST|linux.NLM_F_ACK, 4, ifinfomsg(1))
	on := []byte{1, 0, 0, 0}
	tests := []struct {
		name      string
		opt       int32
		in        []byte
		flags     uint16
		echo      []byte
		explained bool
	}{
		{"error", 0, bad, 0, bad, false},
		{"error, capped", linux.NETLINK_CAP_ACK, bad, nlmFCapped, bad[:16], false},
		{"error, explained", linux.NETLINK_EXT_ACK, bad, nlmFAckTLVs, bad, true},
		{"ack", 0, good, nlmFCapped, good[:16], false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, qemuTable)
			f.admin = true
			if tc.opt != 0 {
				if e := f.s.SetOpt(linux.SOL_NETLINK, tc.opt, on); e != 0 {
					t.Fatal(e)
				}
			}
			f.send(tc.in)
			ms := messages(t, f.recvAll(1<<16))
			m := ms[len(ms)-1]
			if m.Header.Type != linux.NLMSG_ERROR || m.Header.Flags != tc.flags {
				t.Fatalf("answer %+v, want NLMSG_ERROR with flags %#x", m.Header, tc.flags)
			}
			if got := m.Data[4 : 4+len(tc.echo)]; !bytes.Equal(got, tc.echo) {
				t.Errorf("echo % x, want % x", got, tc.echo)
			}
			rest := m.Data[4+len(tc.echo):]
			if got := bytes.Contains(rest, []byte(whyNotChange)); got != tc.explained {
				t.Errorf("explained: %v, want %v (% x)", got, tc.explained, rest)
			}
		})
	}
}

// TestStrictCheck: with NETLINK_GET_STRICT_CHK, a dump request shorter
// than its header is EINVAL and an address dump selects by index.
func TestStrictCheck(t *testing.T) {
	f := newFixture(t, qemuTable)
	if e := f.s.SetOpt(linux.SOL_NETLINK, netlinkGetStrictChk, []byte{1, 0, 0, 0}); e != 0 {
		t.Fatal(e)
	}
	f.send(request(linux.RTM_GETLINK, linux.NLM_F_REQUEST|linux.NLM_F_DUMP, 1, []byte{0}))
	if got := outcomes(t, f.recvAll(4096)); len(got) != 1 || got[0].Errno != errno.EINVAL {
		t.Errorf("short strict dump: %+v, want EINVAL", got)
	}
	f.send(request(linux.RTM_GETADDR, linux.NLM_F_REQUEST|linux.NLM_F_DUMP, 1, ifaddrmsg(linux.AF_UNSPEC, 2)))
	ms := messages(t, f.recvAll(4096))
	if len(ms) != 2 || viewAddr(t, ms[0]).Index != 2 {
		t.Errorf("strict address dump of index 2: %+v", ms)
	}
}

// TestTableError: netd failing the Status call fails the request with
// its errno.
func TestTableError(t *testing.T) {
	f := newFixture(t, qemuTable)
	f.err = errno.EIO
	f.send(request(linux.RTM_GETLINK, linux.NLM_F_REQUEST|linux.NLM_F_DUMP, 1, []byte{0}))
	if got := outcomes(t, f.recvAll(4096)); len(got) != 1 || got[0].Errno != errno.EIO {
		t.Errorf("dump with netd failing: %+v, want EIO", got)
	}
}

// TestNetlinkRIB follows syscall.NetlinkRIB: bind to port 0, send, check
// every answer's pid against getsockname's.
func TestNetlinkRIB(t *testing.T) {
	f := newFixture(t, qemuTable)
	if e := f.s.Bind(f.c.Pid, 0); e != 0 {
		t.Fatal(e)
	}
	if f.s.Port() != uint32(f.c.Pid) {
		t.Errorf("autobound port %d, want the pid %d", f.s.Port(), f.c.Pid)
	}
	f.send(request(syscall.RTM_GETADDR, syscall.NLM_F_REQUEST|syscall.NLM_F_DUMP, 1, []byte{syscall.AF_UNSPEC}))
	for _, m := range messages(t, f.recvAll(4096)) {
		if m.Header.Pid != f.s.Port() || m.Header.Seq != 1 {
			t.Errorf("header %+v", m.Header)
		}
	}
}
