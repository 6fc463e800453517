package netconn

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"valence.dev/servers/net/ethernet"
	"valence.dev/servers/net/link"
	"valence.dev/servers/net/stack"
)

var (
	addrA = netip.MustParseAddr("10.1.0.1")
	addrB = netip.MustParseAddr("10.1.0.2")
)

// pair runs two stacks, each on its own event loop, joined by a pipe.
func pair(t *testing.T) (a, b *stack.Loop) {
	pa, pb := link.NewPipe(1500)
	mk := func(p *link.Pipe, mac byte, addr netip.Addr) *stack.Loop {
		s := stack.New(stack.Config{MAC: ethernet.Address{2, 0, 0, 0, 0, mac}, Rand: stack.SeededRand(int64(mac))}, p)
		s.SetAddress(netip.PrefixFrom(addr, 24))
		l := stack.NewLoop(s, p)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { l.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		return l
	}
	return mk(pa, 1, addrA), mk(pb, 2, addrB)
}

func TestDialListenTransfer(t *testing.T) {
	a, b := pair(t)
	l, err := Listen(b, 80, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	data := make([]byte, 2<<20)
	rand.New(rand.NewSource(1)).Read(data)
	got := make(chan []byte, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		c.Write([]byte("thanks"))
		got <- b
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, a, netip.AddrPortFrom(addrB, 80))
	if err != nil {
		t.Fatal(err)
	}
	if c.RemoteAddr().String() != "10.1.0.2:80" || c.LocalAddr().(*net.TCPAddr).IP.String() != "10.1.0.1" {
		t.Errorf("addresses %v %v", c.LocalAddr(), c.RemoteAddr())
	}
	if _, err := c.Write(data); err != nil {
		t.Fatal(err)
	}
	c.CloseWrite()
	reply, err := io.ReadAll(c)
	if err != nil || string(reply) != "thanks" {
		t.Errorf("reply %q, %v", reply, err)
	}
	if !bytes.Equal(<-got, data) {
		t.Error("server received different data")
	}
	c.Close()
}

func TestDeadlineAndRefused(t *testing.T) {
	a, b := pair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := Dial(ctx, a, netip.AddrPortFrom(addrB, 81)); err == nil {
		t.Error("dial to a closed port succeeded")
	}
	l, _ := Listen(b, 82, 1)
	defer l.Close()
	c, err := Dial(ctx, a, netip.AddrPortFrom(addrB, 82))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read with deadline: %v", err)
	}
	// Close unblocks a pending Accept.
	go func() { time.Sleep(20 * time.Millisecond); l.Close() }()
	l.Accept() // the connection from above
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v", err)
	}
}
