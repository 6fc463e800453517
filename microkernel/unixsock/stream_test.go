package unixsock

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

// TestMessageBoundaries: a stream read joins what was sent; datagram and
// seqpacket reads take one message each, cut to the buffer.
func TestMessageBoundaries(t *testing.T) {
	tests := []struct {
		typ   linux.SockType
		sends []string
		n     int
		want  []string // successive reads until EAGAIN
	}{
		{linux.SOCK_STREAM, []string{"ab", "cd", "ef"}, 100, []string{"abcdef"}},
		{linux.SOCK_STREAM, []string{"abcdef"}, 4, []string{"abcd", "ef"}},
		{linux.SOCK_DGRAM, []string{"ab", "cd", ""}, 100, []string{"ab", "cd", ""}},
		{linux.SOCK_DGRAM, []string{"abcdef", "gh"}, 3, []string{"abc", "gh"}},
		{linux.SOCK_SEQPACKET, []string{"ab", "cdef"}, 3, []string{"ab", "cde"}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.typ, tc.sends, tc.n), func(t *testing.T) {
			var o testOwner
			a, b := mustPair(t, newTestDomain(), tc.typ, o.owner(1, 10))
			for _, s := range tc.sends {
				send(t, a, s)
			}
			var got []string
			for {
				s, e := recv(b, tc.n, 0)
				if e == errno.EAGAIN {
					break
				}
				if e != 0 {
					t.Fatalf("Recv = %v", e)
				}
				got = append(got, s)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("reads (-want +got):\n%s", diff)
			}
			if o.bytes.Load() != 0 {
				t.Errorf("%d bytes still charged after every read", o.bytes.Load())
			}
		})
	}
}

// TestTruncAndPeek: MSG_PEEK leaves the message; Full tells a datagram's
// whole length (MSG_TRUNC).
func TestTruncAndPeek(t *testing.T) {
	a, b := mustPair(t, newTestDomain(), linux.SOCK_DGRAM, Owner{})
	send(t, a, "hello world")
	r, e := b.Recv(caller(), 5, linux.MSG_PEEK, true)
	if e != 0 || string(r.Data) != "hello" || r.Full != 11 {
		t.Fatalf("peek = %q full %d, %v; want \"hello\" 11", r.Data, r.Full, e)
	}
	r, e = b.Recv(caller(), 100, 0, true)
	if e != 0 || string(r.Data) != "hello world" {
		t.Fatalf("read after peek = %q, %v", r.Data, e)
	}
}

// TestShutdownAndClose covers end of file and broken pipes on a stream.
func TestShutdownAndClose(t *testing.T) {
	tests := []struct {
		name       string
		act        func(a, b *Socket)
		flags      uint32 // of b's send
		readA      errno.Errno
		readAData  string
		sendB      errno.Errno
		wantSignal bool
	}{
		{name: "peer closed", act: func(a, b *Socket) { a.Release() }, sendB: errno.EPIPE, wantSignal: true},
		{name: "peer closed, MSG_NOSIGNAL", act: func(a, b *Socket) { a.Release() }, flags: linux.MSG_NOSIGNAL, sendB: errno.EPIPE},
		{name: "b shut writing", act: func(a, b *Socket) { b.Shutdown(linux.SHUT_WR) }, sendB: errno.EPIPE, wantSignal: true},
		{name: "a shut reading", act: func(a, b *Socket) { a.Shutdown(linux.SHUT_RD) }, sendB: errno.EPIPE, wantSignal: true},
		{name: "b shut reading", act: func(a, b *Socket) { b.Shutdown(linux.SHUT_RD) }, readA: errno.EAGAIN},
		{name: "data before the end", act: func(a, b *Socket) { send(t, b, "last"); b.Shutdown(linux.SHUT_WR) }, readAData: "last", sendB: errno.EPIPE, wantSignal: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := mustPair(t, newTestDomain(), linux.SOCK_STREAM, Owner{})
			tc.act(a, b)
			if tc.name != "peer closed" && tc.name != "peer closed, MSG_NOSIGNAL" {
				got, e := recv(a, 100, 0)
				if e != tc.readA || got != tc.readAData {
					t.Errorf("a's read = %q, %v; want %q, %v", got, e, tc.readAData, tc.readA)
				}
			}
			c := caller()
			_, e := b.Send(c, Message{Data: []byte("x")}, nil, tc.flags, true)
			if e != tc.sendB {
				t.Errorf("b's send = %v, want %v", e, tc.sendB)
			}
			if got := len(c.Raised()) > 0; got != tc.wantSignal {
				t.Errorf("SIGPIPE raised: %v, want %v", got, tc.wantSignal)
			}
		})
	}
}

// TestResetOnUnread: a peer that closes with data unread resets the
// connection: the survivor reads ECONNRESET once, then end of file.
func TestResetOnUnread(t *testing.T) {
	a, b := mustPair(t, newTestDomain(), linux.SOCK_STREAM, Owner{})
	send(t, b, "never read")
	a.Release()
	var got []errno.Errno
	for range 2 {
		_, e := recv(b, 10, 0)
		got = append(got, e)
	}
	if diff := cmp.Diff([]errno.Errno{errno.ECONNRESET, 0}, got); diff != "" {
		t.Errorf("reads after the reset (-want +got):\n%s", diff)
	}
}

// TestBlockingRead: a read waits for data, and a signal ends the wait.
func TestBlockingRead(t *testing.T) {
	a, b := mustPair(t, newTestDomain(), linux.SOCK_STREAM, Owner{})
	go func() {
		time.Sleep(20 * time.Millisecond)
		send(t, a, "late")
	}()
	r, e := b.Recv(caller(), 10, 0, false)
	if e != 0 || string(r.Data) != "late" {
		t.Fatalf("blocking read = %q, %v", r.Data, e)
	}
	c := caller()
	go func() {
		time.Sleep(20 * time.Millisecond)
		c.Interrupt()
	}()
	if _, e := b.Recv(c, 10, 0, false); e != errno.EINTR {
		t.Errorf("interrupted read = %v, want EINTR", e)
	}
}

// TestWaitAll: MSG_WAITALL gathers pieces until the buffer is full.
func TestWaitAll(t *testing.T) {
	a, b := mustPair(t, newTestDomain(), linux.SOCK_STREAM, Owner{})
	go func() {
		for _, s := range []string{"ab", "cd", "ef"} {
			time.Sleep(5 * time.Millisecond)
			send(t, a, s)
		}
	}()
	r, e := b.Recv(caller(), 6, linux.MSG_WAITALL, false)
	if e != 0 || string(r.Data) != "abcdef" {
		t.Errorf("MSG_WAITALL read = %q, %v; want \"abcdef\"", r.Data, e)
	}
}

// TestSendBuffer: a sender stops at its SO_SNDBUF; reading makes room.
func TestSendBuffer(t *testing.T) {
	var o testOwner
	a, b := mustPair(t, newTestDomain(), linux.SOCK_STREAM, o.owner(1, 10))
	if e := a.SetOpt(linux.SOL_SOCKET, linux.SO_SNDBUF, []byte{0, 0x10, 0, 0}); e != 0 { // 4096, doubled
		t.Fatal(e)
	}
	big := make([]byte, 64<<10)
	n, e := a.Send(caller(), Message{Data: big}, nil, 0, true)
	if e != 0 || n <= 0 || n > 8192 {
		t.Fatalf("nonblocking send of 64 KiB into an 8 KiB buffer = %d, %v", n, e)
	}
	if _, e := a.Send(caller(), Message{Data: big}, nil, 0, true); e != errno.EAGAIN {
		t.Errorf("send into a full buffer = %v, want EAGAIN", e)
	}
	if o.bytes.Load() < int64(n) {
		t.Errorf("charged %d bytes, sent %d", o.bytes.Load(), n)
	}
	if got, _ := recv(b, 1<<20, 0); len(got) != n {
		t.Errorf("read %d bytes, want %d", len(got), n)
	}
	if o.bytes.Load() != 0 {
		t.Errorf("charge after the read = %d, want 0", o.bytes.Load())
	}
	if n, e := a.Send(caller(), Message{Data: big[:100]}, nil, 0, true); e != 0 || n != 100 {
		t.Errorf("send after the read = %d, %v", n, e)
	}
}

// TestQuota: once an owner's sockets hold Quota, each socket's sends
// hold at most minBuffered, whatever its SO_SNDBUF; a datagram that
// does not fit waits.
func TestQuota(t *testing.T) {
	tests := []struct {
		typ     linux.SockType
		size    int
		wantN   int
		wantErr errno.Errno
	}{
		{linux.SOCK_STREAM, 64 << 10, minBuffered - msgOverhead, 0},
		{linux.SOCK_DGRAM, 100, 100, 0},
		{linux.SOCK_DGRAM, 8 << 10, 0, errno.EAGAIN},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.typ, tc.size), func(t *testing.T) {
			var o testOwner
			o.bytes.Store(Quota) // the owner's other sockets hold the quota
			a, _ := mustPair(t, newTestDomain(), tc.typ, o.owner(1, 10))
			n, e := a.Send(caller(), Message{Data: make([]byte, tc.size)}, nil, 0, true)
			if n != tc.wantN || e != tc.wantErr {
				t.Errorf("Send(%d bytes) over quota = %d, %v; want %d, %v", tc.size, n, e, tc.wantN, tc.wantErr)
			}
		})
	}
}
