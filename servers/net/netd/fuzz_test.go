package netd

import (
	"context"
	"fmt"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"valence.dev/servers/net/sim"
	"valence.dev/servers/net/sockproto"
	"valence.dev/servers/net/stack"
)

// FuzzRequests feeds sequences of requests of every method, from three
// clients, to netd on A (with netd on B as a peer), with socket numbers,
// addresses, ports, flags, lengths and buffers drawn from the input.
// Nothing may panic, every refusal must be an errno, no Wait may hang,
// and the server's books must balance after every request (check).
func FuzzRequests(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 4, 1, 1, 5, 2, 1, 1, 6, 1, 7, 1})
	f.Add([]byte{0, 1, 0, 0, 7, 1, 0, 1, 8, 9, 1, 2, 10, 1, 3, 0, 15, 0, 16, 0})
	f.Add([]byte{0, 0, 1, 0, 8, 1, 2, 2, 9, 1, 2, 3, 3, 10, 1, 0, 14, 1, 1, 4, 17, 0})
	f.Add([]byte{1, 0, 0, 0, 2, 1, 0, 0, 9, 1, 5, 5, 255, 3, 1, 1})
	// A raw ICMP socket: sendto B, filter, receive, status.
	f.Add([]byte{0, 2, 0, 3, 3, 1, 0, 8, 1, 0, 1, 8, 4, 0, 1, 0, 12, 1, 5, 1, 4, 0, 17, 2, 0, 9, 1, 0, 0, 1, 0, 16, 0, 0, 3, 1})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := newRig(t, Options{MaxSocketsPerClient: 6, MaxBufferBytesPerClient: 3 << 20})
		// A peer that accepts on B.
		blis := listen(t, r.cb, 80)
		_ = blis
		p := &picker{b: in}
		for i := 0; p.more() && i < 64; i++ {
			badge := uint64(1 + p.n(3))
			op := p.n(18)
			err := r.call(badge, op, p)
			if code(err) == ^syscall.Errno(0) {
				t.Fatalf("request %d (op %d): error %v is not an errno", i, op, err)
			}
			if msg := r.check(); msg != "" {
				t.Fatalf("request %d (op %d, err %v): %s", i, op, err, msg)
			}
		}
	})
}

// picker draws values from the fuzz input, zeros when it runs out.
type picker struct {
	b []byte
	i int
}

func (p *picker) more() bool { return p.i < len(p.b) }

func (p *picker) byte() byte {
	if p.i >= len(p.b) {
		return 0
	}
	p.i++
	return p.b[p.i-1]
}

func (p *picker) n(k int) int { return int(p.byte()) % k }

func (p *picker) u32() uint32 { return uint32(p.byte()) | uint32(p.byte())<<8 }

func (p *picker) addr() sockproto.Addr {
	ips := []netip.Addr{sim.AddrA, sim.AddrB, netip.MustParseAddr("127.0.0.1"), any4, netip.MustParseAddr("10.0.0.255"), netip.MustParseAddr("192.0.2.7")}
	ports := []uint16{0, 80, 81, 7, 1023, 65535}
	switch k := p.n(8); k {
	case 6:
		return sockproto.Addr{Family: uint16(sockproto.AF_INET6), Port: 80, IP: make([]byte, 16)}
	case 7:
		return sockproto.Addr{Family: uint16(p.byte()), Port: uint16(p.u32()), IP: []byte{p.byte()}}
	default:
		return inet(ips[k], ports[p.n(len(ports))])
	}
}

// call makes request op of badge on A's netd, through the handler.
func (r *rig) call(badge uint64, op int, p *picker) error {
	s := r.a
	sock := uint32(p.n(8))
	var err error
	switch op {
	case 0:
		_, err = s.Attach(ctx, badge, sockproto.AttachRequest{Size: uint64(p.u32())})
	case 1:
		_, err = s.Detach(ctx, badge, sockproto.DetachRequest{ID: uint32(p.n(6))})
	case 2:
		_, err = s.Socket(ctx, badge, sockproto.SocketRequest{Family: []uint16{2, 10, 1}[p.n(3)], Type: uint16(p.n(6)), Protocol: []uint16{0, 6, 17, 1, 255}[p.n(5)], NetRaw: p.n(2) == 1})
	case 3:
		_, err = s.Close(ctx, badge, sockproto.SockRequest{Sock: sock})
	case 4:
		_, err = s.Bind(ctx, badge, sockproto.AddrRequest{Sock: sock, Addr: p.addr()})
	case 5:
		_, err = s.Listen(ctx, badge, sockproto.ListenRequest{Sock: sock, Backlog: int32(int8(p.byte()))})
	case 6:
		_, err = s.Accept(ctx, badge, sockproto.SockRequest{Sock: sock})
	case 7:
		_, err = s.Connect(ctx, badge, sockproto.AddrRequest{Sock: sock, Addr: p.addr()})
	case 8:
		req := sockproto.SendRequest{Sock: sock, Flags: uint32(p.byte()), Data: make([]byte, p.n(64))}
		if p.n(2) == 1 {
			req.To = p.addr()
		}
		if p.n(3) == 0 {
			req.Buf, req.BufOff, req.Len = uint32(p.n(4)), uint64(p.u32()), p.u32()<<4
		}
		_, err = s.Send(ctx, badge, req)
	case 9:
		req := sockproto.RecvRequest{Sock: sock, Flags: uint32(p.byte()), Len: p.u32()}
		if p.n(3) == 0 {
			req.Buf, req.BufOff = uint32(p.n(4)), uint64(p.u32())
		}
		_, err = s.Recv(ctx, badge, req)
	case 10:
		_, err = s.Shutdown(ctx, badge, sockproto.ShutdownRequest{Sock: sock, How: uint32(p.n(4))})
	case 11:
		_, err = s.Name(ctx, badge, sockproto.NameRequest{Sock: sock, Peer: p.n(2) == 1})
	case 12:
		_, err = s.SetOpt(ctx, badge, sockproto.OptRequest{Sock: sock, Level: []int32{1, 6, 0, 41, 99, 255}[p.n(6)], Name: int32(p.n(45)), Value: make([]byte, p.n(10))})
	case 13:
		_, err = s.GetOpt(ctx, badge, sockproto.OptRequest{Sock: sock, Level: []int32{1, 6, 0, 41, 99, 255}[p.n(6)], Name: int32(p.n(45)), Value: make([]byte, p.n(10))})
	case 14:
		cctx, cancel := context.WithTimeout(ctx, time.Millisecond)
		_, err = s.Wait(cctx, badge, sockproto.WaitRequest{Seq: uint64(p.n(5))})
		cancel()
		if err == context.DeadlineExceeded {
			err = nil
		}
	case 15:
		_, err = s.Forget(ctx, badge, sockproto.Empty{})
	case 16:
		_, err = s.Status(ctx, badge, sockproto.StatusRequest{From: uint32(p.n(30))})
	case 17:
		// Let the network run a little: handshakes, data, closes.
		time.Sleep(time.Duration(p.n(3)) * time.Millisecond)
	}
	return err
}

// check verifies the server's books on its loop; "" if they balance.
func (r *rig) check() string {
	var msg string
	s := r.a
	s.loop.Do(func(st *stack.Stack) {
		n, raws := 0, 0
		var shared uint64
		for badge, c := range s.clients {
			if c.gone {
				msg = fmt.Sprintf("client %d is forgotten but listed", badge)
				return
			}
			var bytes int64
			for id, so := range c.socks {
				if so.id != id || so.closed || s.socks[so] != c {
					msg = fmt.Sprintf("client %d socket %d: id %d closed %v", badge, id, so.id, so.closed)
					return
				}
				if so.kind == kindTCP && (so.conn != nil && so.lis != nil) || so.udp != nil && so.kind != kindUDP || so.ping != nil && so.kind != kindPing {
					msg = fmt.Sprintf("socket %d of kind %d: conn %v lis %v udp %v ping %v", id, so.kind, so.conn != nil, so.lis != nil, so.udp != nil, so.ping != nil)
					return
				}
				if (so.raw != nil) != (so.kind == kindRaw) {
					msg = fmt.Sprintf("socket %d of kind %d: raw %v", id, so.kind, so.raw != nil)
					return
				}
				if so.kind == kindRaw {
					raws++
				}
				bytes += so.charged
				n++
			}
			if bytes != c.bytes || bytes > s.opts.MaxBufferBytesPerClient || len(c.socks) > s.opts.MaxSocketsPerClient {
				msg = fmt.Sprintf("client %d: %d sockets, %d bytes charged, books say %d", badge, len(c.socks), bytes, c.bytes)
				return
			}
			for id := range c.changed {
				if c.socks[id] == nil {
					msg = fmt.Sprintf("client %d: closed socket %d listed as changed", badge, id)
					return
				}
			}
			for _, b := range c.bufs {
				shared += uint64(len(b.Bytes))
			}
		}
		if n != s.nsocks || n != len(s.socks) {
			msg = fmt.Sprintf("%d sockets, books say %d and %d", n, s.nsocks, len(s.socks))
			return
		}
		if raws != st.RawSockets() {
			msg = fmt.Sprintf("%d raw sockets, the stack has %d", raws, st.RawSockets())
			return
		}
		if shared != s.shared {
			msg = fmt.Sprintf("%d shared bytes, books say %d", shared, s.shared)
			return
		}
		for port, so := range s.tcpBound {
			if so.closed || !so.holds || so.bound.Port() != port || s.socks[so] == nil {
				msg = fmt.Sprintf("port %d held by socket %d (closed %v, holds %v, bound %v)", port, so.id, so.closed, so.holds, so.bound)
				return
			}
		}
	})
	return msg
}
