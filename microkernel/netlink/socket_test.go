package netlink

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

// bigTable has the most interfaces and addresses FromStatus keeps: its
// address dump is several batches long.
func bigTable() Table {
	var t Table
	for i := range maxLinks {
		l := Link{Index: int32(i + 1), Name: fmt.Sprintf("eth%d", i), Type: linux.ARPHRD_ETHER, MAC: make([]byte, 6), Flags: linux.IFF_UP}
		for k := range maxAddrs {
			l.Addrs = append(l.Addrs, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i), byte(k), 1}), 24))
		}
		t.Links = append(t.Links, l)
	}
	return t
}

var dumpAddrs = request(linux.RTM_GETADDR, linux.NLM_F_REQUEST|linux.NLM_F_DUMP, 1, []byte{0})

// TestMultipart: a dump larger than a batch comes in several datagrams
// of whole messages, each at most NLMSG_GOODSIZE at first, then the size
// of the reads (a page), every message NLM_F_MULTI, NLMSG_DONE last; all
// addresses arrive once.
func TestMultipart(t *testing.T) {
	f := newFixture(t, bigTable())
	f.send(dumpAddrs)
	ds := f.recvAll(4096)
	if len(ds) < 2 {
		t.Fatalf("%d datagrams, want several", len(ds))
	}
	n := 0
	for i, d := range ds {
		if limit := map[bool]int{true: goodSize, false: 4096}[i == 0]; len(d) > limit {
			t.Errorf("datagram %d is %d bytes, over %d", i, len(d), limit)
		}
		ms := messages(t, [][]byte{d})
		for _, m := range ms {
			if m.Header.Flags&linux.NLM_F_MULTI == 0 {
				t.Errorf("message without NLM_F_MULTI: %+v", m.Header)
			}
			if m.Header.Type == linux.RTM_NEWADDR {
				n++
			}
		}
		if last := ms[len(ms)-1].Header.Type; (last == linux.NLMSG_DONE) != (i == len(ds)-1) {
			t.Errorf("datagram %d of %d ends with type %d", i, len(ds), last)
		}
	}
	if n != maxLinks*maxAddrs {
		t.Errorf("%d addresses, want %d", n, maxLinks*maxAddrs)
	}
	if f.charge.Load() != 0 {
		t.Errorf("charge %d after reading everything, want 0", f.charge.Load())
	}
}

// TestLargeReadsLargeBatches: after a large read, batches grow to it (up
// to 32 KiB), as Linux's max_recvmsg_len.
func TestLargeReadsLargeBatches(t *testing.T) {
	f := newFixture(t, bigTable())
	if _, _, e := f.s.Recv(f.c, 1<<20, 0, true); e != errno.EAGAIN {
		t.Fatalf("Recv on an empty socket: %v, want EAGAIN", e)
	}
	f.send(dumpAddrs)
	ds := f.recvAll(1 << 20)
	if len(ds[0]) <= goodSize || len(ds[0]) > maxBatch {
		t.Errorf("first datagram after 1 MiB reads: %d bytes, want more than %d, at most %d", len(ds[0]), goodSize, maxBatch)
	}
}

// TestTruncation: a read shorter than the datagram gets its start and
// loses the rest (MSG_TRUNC tells the whole length); MSG_PEEK leaves it;
// the dump goes on in the next datagram.
func TestTruncation(t *testing.T) {
	f := newFixture(t, bigTable())
	f.send(dumpAddrs)
	d, full, e := f.s.Recv(f.c, 0, linux.MSG_PEEK|linux.MSG_TRUNC, true)
	if e != 0 || len(d) != 0 || full <= 16 {
		t.Fatalf("peek for the size: %d bytes, full %d, %v", len(d), full, e)
	}
	d, full2, e := f.s.Recv(f.c, 16, linux.MSG_PEEK, true)
	if e != 0 || len(d) != 16 || full2 != full {
		t.Fatalf("peek 16: %d bytes, full %d, %v", len(d), full2, e)
	}
	d, full3, e := f.s.Recv(f.c, 16, 0, true)
	if e != 0 || len(d) != 16 || full3 != full {
		t.Fatalf("read 16: %d bytes, full %d, %v", len(d), full3, e)
	}
	if n := len(f.recvAll(1)); n == 0 {
		t.Errorf("the dump stopped after a truncated read")
	}
	f.send(dumpAddrs)
	if ms := messages(t, f.recvAll(4096)); ms[len(ms)-1].Header.Type != linux.NLMSG_DONE {
		t.Errorf("a dump after a truncated one does not end in NLMSG_DONE")
	}
}

// TestBusy: a dump requested while another runs is EBUSY, as Linux.
func TestBusy(t *testing.T) {
	f := newFixture(t, bigTable())
	f.send(dumpAddrs)
	f.send(request(linux.RTM_GETLINK, linux.NLM_F_REQUEST|linux.NLM_F_DUMP, 2, []byte{0}))
	var busy bool
	for _, m := range messages(t, f.recvAll(4096)) {
		if m.Header.Seq == 2 {
			busy = m.Header.Type == linux.NLMSG_ERROR && errnoOf(t, m) == errno.EBUSY
		}
	}
	if !busy {
		t.Errorf("second dump not refused with EBUSY")
	}
}

// TestFlood: requests sent without reading fill the queue up to SO_RCVBUF
// and no further; the first read then says ENOBUFS, once; what was kept
// is read; closing uncharges everything.
func TestFlood(t *testing.T) {
	f := newFixture(t, qemuTable)
	one := request(linux.RTM_GETLINK, linux.NLM_F_REQUEST|linux.NLM_F_ACK, 1, ifinfomsg(2))
	var batch []byte
	for range 1000 {
		batch = append(batch, one...)
	}
	for range 10 {
		f.send(batch)
	}
	if got := f.charge.Load(); got > defaultBuf+4096 || got < defaultBuf/2 {
		t.Errorf("charge after the flood: %d, want about SO_RCVBUF (%d)", got, defaultBuf)
	}
	if _, _, e := f.s.Recv(f.c, 4096, 0, true); e != errno.ENOBUFS {
		t.Errorf("first read after the flood: %v, want ENOBUFS", e)
	}
	if n := len(f.recvAll(4096)); n == 0 || n > defaultBuf/msgOverhead {
		t.Errorf("%d answers kept", n)
	}
	f.send(batch)
	f.s.Release()
	if got := f.charge.Load(); got != 0 {
		t.Errorf("charge after close: %d, want 0", got)
	}
	// With NETLINK_NO_ENOBUFS, answers are dropped silently.
	f = newFixture(t, qemuTable)
	f.s.SetOpt(linux.SOL_NETLINK, linux.NETLINK_NO_ENOBUFS, []byte{1, 0, 0, 0})
	f.send(batch)
	if _, _, e := f.s.Recv(f.c, 4096, 0, true); e != 0 {
		t.Errorf("first read with NETLINK_NO_ENOBUFS: %v", e)
	}
}

// TestQuota: once the owner's sockets hold the quota, a socket keeps
// one batch's worth.
func TestQuota(t *testing.T) {
	f := newFixture(t, qemuTable)
	f.charge.Store(ownerQuota)
	one := request(linux.RTM_GETLINK, linux.NLM_F_REQUEST, 1, ifinfomsg(2))
	for range 100 {
		f.send(one)
	}
	if got := f.charge.Load() - ownerQuota; got > 2*minBuffered {
		t.Errorf("socket holds %d bytes over quota, want at most about %d", got, minBuffered)
	}
}

func TestSendTooLong(t *testing.T) {
	f := newFixture(t, qemuTable)
	if _, e := f.s.Send(f.c, 1, make([]byte, defaultBuf)); e != errno.EMSGSIZE {
		t.Errorf("send of SO_SNDBUF bytes: %v, want EMSGSIZE", e)
	}
	if _, e := f.s.Send(f.c, 1, make([]byte, defaultBuf-32)); e != 0 {
		t.Errorf("send of SO_SNDBUF-32 bytes: %v", e)
	}
}

func TestBlocking(t *testing.T) {
	f := newFixture(t, qemuTable)
	done := make(chan errno.Errno)
	go func() {
		_, _, e := f.s.Recv(f.c, 4096, 0, false)
		done <- e
	}()
	time.Sleep(10 * time.Millisecond)
	f.send(request(linux.RTM_GETLINK, linux.NLM_F_REQUEST, 1, ifinfomsg(1)))
	if e := <-done; e != 0 {
		t.Errorf("blocked read woken by an answer: %v", e)
	}
	go func() {
		_, _, e := f.s.Recv(f.c, 4096, 0, false)
		done <- e
	}()
	time.Sleep(10 * time.Millisecond)
	f.c.Interrupt()
	if e := <-done; e != errno.EINTR {
		t.Errorf("blocked read interrupted: %v, want EINTR", e)
	}
	if _, _, e := f.s.Recv(f.c, 4096, linux.MSG_DONTWAIT, false); e != errno.EAGAIN {
		t.Errorf("MSG_DONTWAIT on nothing: %v, want EAGAIN", e)
	}
	if _, _, e := f.s.Recv(f.c, 4096, linux.MSG_OOB, true); e != errno.EOPNOTSUPP {
		t.Errorf("MSG_OOB: %v, want EOPNOTSUPP", e)
	}
}

func TestPoll(t *testing.T) {
	f := newFixture(t, qemuTable)
	ev, wake := f.s.Poll()
	if ev&linux.EPOLLIN != 0 || ev&linux.EPOLLOUT == 0 {
		t.Errorf("idle socket: %#x, want writable only", ev)
	}
	seq := wake.Seq()
	f.send(request(linux.RTM_GETLINK, linux.NLM_F_REQUEST, 1, ifinfomsg(1)))
	if ev, _ = f.s.Poll(); ev&linux.EPOLLIN == 0 || wake.Seq() == seq {
		t.Errorf("with an answer: %#x, signalled %v", ev, wake.Seq() != seq)
	}
}

func TestPorts(t *testing.T) {
	f := newFixture(t, qemuTable)
	if f.s.Port() != 0 {
		t.Errorf("unbound port %d, want 0", f.s.Port())
	}
	if e := f.s.Bind(7, 0); e != 0 || f.s.Port() != 7 {
		t.Fatalf("autobind: %v, port %d", e, f.s.Port())
	}
	if e := f.s.Bind(7, 8); e != errno.EINVAL {
		t.Errorf("bind to another port when bound: %v, want EINVAL", e)
	}
	if e := f.s.Bind(7, 7); e != 0 {
		t.Errorf("bind again to its own port: %v", e)
	}
	if e := f.s.Bind(7, 0); e != errno.EINVAL {
		t.Errorf("bind again to port 0: %v, want EINVAL", e)
	}
	s2 := f.socket()
	if e := s2.Bind(7, 0); e != 0 || int32(s2.Port()) != firstRover {
		t.Errorf("second autobind of pid 7: %v, port %d, want %d", e, int32(s2.Port()), firstRover)
	}
	s3 := f.socket()
	if e := s3.Bind(1, 7); e != errno.EADDRINUSE {
		t.Errorf("bind to a taken port: %v, want EADDRINUSE", e)
	}
	f.s.Release()
	if e := s3.Bind(1, 7); e != 0 {
		t.Errorf("bind to a port freed by close: %v", e)
	}
	s4 := f.socket()
	if _, e := s4.Send(f.c, 99, nil); e != 0 || s4.Port() != 99 {
		t.Errorf("send autobinds: %v, port %d", e, s4.Port())
	}
}

func TestOptions(t *testing.T) {
	f := newFixture(t, qemuTable)
	one := []byte{1, 0, 0, 0}
	for _, tc := range []struct {
		level, name int32
		v           []byte
		want        errno.Errno
	}{
		{linux.SOL_NETLINK, linux.NETLINK_EXT_ACK, one, 0},
		{linux.SOL_NETLINK, netlinkGetStrictChk, one, 0},
		{linux.SOL_NETLINK, linux.NETLINK_ADD_MEMBERSHIP, one, errno.EPERM},
		{linux.SOL_NETLINK, linux.NETLINK_ADD_MEMBERSHIP, []byte{0, 0, 0, 0}, errno.EINVAL},
		{linux.SOL_NETLINK, linux.NETLINK_DROP_MEMBERSHIP, one, 0},
		{linux.SOL_NETLINK, linux.NETLINK_PKTINFO, one, errno.ENOPROTOOPT},
		{linux.SOL_NETLINK, 999, one, errno.ENOPROTOOPT},
		{linux.SOL_SOCKET, linux.SO_RCVBUF, []byte{0, 0, 1, 0}, 0},
		{linux.SOL_SOCKET, linux.SO_SNDBUF, []byte{1}, errno.EINVAL},
		{linux.SOL_SOCKET, linux.SO_RCVTIMEO, make([]byte, 16), 0},
		{linux.SOL_SOCKET, linux.SO_PASSCRED, one, errno.ENOPROTOOPT},
		{linux.SOL_IP, 1, one, errno.ENOPROTOOPT},
	} {
		if e := f.s.SetOpt(tc.level, tc.name, tc.v); e != tc.want {
			t.Errorf("SetOpt(%d, %d): %v, want %v", tc.level, tc.name, e, tc.want)
		}
	}
	get := func(level, name int32) int32 {
		v, e := f.s.GetOpt(level, name)
		if e != 0 || len(v) != 4 {
			t.Fatalf("GetOpt(%d, %d): %v", level, name, e)
		}
		return int32(v[0]) | int32(v[1])<<8 | int32(v[2])<<16 | int32(v[3])<<24
	}
	if got := get(linux.SOL_SOCKET, linux.SO_RCVBUF); got != 2<<16 {
		t.Errorf("SO_RCVBUF after setting 64 KiB: %d, want 128 KiB", got)
	}
	if get(linux.SOL_NETLINK, linux.NETLINK_EXT_ACK) != 1 || get(linux.SOL_NETLINK, netlinkGetStrictChk) != 1 {
		t.Errorf("flags not read back")
	}
	if get(linux.SOL_SOCKET, linux.SO_DOMAIN) != linux.AF_NETLINK || get(linux.SOL_SOCKET, linux.SO_TYPE) != int32(linux.SOCK_RAW) ||
		get(linux.SOL_SOCKET, linux.SO_PROTOCOL) != linux.NETLINK_ROUTE {
		t.Errorf("SO_DOMAIN, SO_TYPE or SO_PROTOCOL wrong")
	}
}

func TestSocketTypes(t *testing.T) {
	p := NewPorts(nil, nil)
	for _, tc := range []struct {
		typ  linux.SockType
		want errno.Errno
	}{{linux.SOCK_RAW, 0}, {linux.SOCK_DGRAM, 0}, {linux.SOCK_STREAM, errno.ESOCKTNOSUPPORT}, {linux.SOCK_SEQPACKET, errno.ESOCKTNOSUPPORT}} {
		if _, e := p.NewSocket(Config{Type: tc.typ}); e != tc.want {
			t.Errorf("NewSocket(%v): %v, want %v", tc.typ, e, tc.want)
		}
	}
}
