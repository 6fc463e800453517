package main

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// pattern is n bytes that differ at every offset a bug would shift.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	patternAt(b, 0, seed)
	return b
}

// patternAt fills b with the pattern's bytes from offset off on.
func patternAt(b []byte, off int, seed byte) {
	for j := range b {
		i := off + j
		b[j] = byte(i*31) ^ seed ^ byte(i>>9)
	}
}

// testTCPLoopback: a listener and a client on 127.0.0.1 exchange 256 KiB
// each way at once, and the client sees the server's close as EOF.
func testTCPLoopback() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	const n = 256 << 10
	up, down := pattern(n, 1), pattern(n, 2)
	srvErr := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			srvErr <- err
			return
		}
		defer c.Close()
		// The close must wait for the write: a Close under a Write that
		// waits for room ends it early, and the client would see EOF
		// before all of down (Linux's larger buffers only hide that).
		wrote := make(chan error, 1)
		go func() { _, err := c.Write(down); wrote <- err }()
		defer func() { <-wrote }()
		got := make([]byte, n)
		if _, err := io.ReadFull(c, got); err != nil {
			srvErr <- fmt.Errorf("server read: %w", err)
			return
		}
		if !bytes.Equal(got, up) {
			srvErr <- errors.New("the server got other bytes than the client sent")
			return
		}
		srvErr <- nil
	}()
	c, err := net.DialTimeout("tcp", l.Addr().String(), 30*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if c.RemoteAddr().String() != l.Addr().String() {
		return fmt.Errorf("remote address %v, want %v", c.RemoteAddr(), l.Addr())
	}
	go c.Write(up)
	got := make([]byte, n)
	if _, err := io.ReadFull(c, got); err != nil {
		return fmt.Errorf("client read: %w", err)
	}
	if !bytes.Equal(got, down) {
		return errors.New("the client got other bytes than the server sent")
	}
	if err := <-srvErr; err != nil {
		return err
	}
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if k, err := c.Read(got[:1]); k != 0 || err != io.EOF {
		return fmt.Errorf("read after the server closed: %d %v, want EOF", k, err)
	}
	return nil
}

// testUDPLoopback: datagrams both ways with their senders.
func testUDPLoopback() error {
	a, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer a.Close()
	b, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer b.Close()
	a.SetDeadline(time.Now().Add(30 * time.Second))
	b.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := b.WriteTo([]byte("ping"), a.LocalAddr()); err != nil {
		return err
	}
	buf := make([]byte, 100)
	n, from, err := a.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "ping" || from.String() != b.LocalAddr().String() {
		return fmt.Errorf("ReadFrom: %q from %v (%v), want ping from %v", buf[:n], from, err, b.LocalAddr())
	}
	if _, err := a.WriteTo([]byte("pong"), from); err != nil {
		return err
	}
	n, _, err = b.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "pong" {
		return fmt.Errorf("the answer: %q (%v)", buf[:n], err)
	}
	return nil
}

// testHTTPLoopback: net/http's server and client on 127.0.0.1, a 1 MiB
// body checked by its hash.
func testHTTPLoopback() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(serveBytes)}
	go srv.Serve(l)
	defer srv.Close()
	const n = 1 << 20
	resp, err := http.Get(fmt.Sprintf("http://%s/bytes?n=%d", l.Addr(), n))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	h := sha256.New()
	got, err := io.Copy(h, resp.Body)
	if err != nil || got != n {
		return fmt.Errorf("body: %d bytes (%v), want %d", got, err, n)
	}
	if want := sha256.Sum256(pattern(n, 3)); !bytes.Equal(h.Sum(nil), want[:]) {
		return errors.New("the body differs from what was served")
	}
	return nil
}

// serveBytes answers /bytes?n=N with N bytes of pattern 3.
func serveBytes(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.URL.Query().Get("n"))
	if err != nil || n < 0 || n > 256<<20 {
		http.Error(w, "bad n", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(n))
	// In pieces: 100 MiB at once would be a tenth of the machine.
	b := make([]byte, 256<<10)
	for off := 0; off < n; off += len(b) {
		piece := b[:min(len(b), n-off)]
		patternAt(piece, off, 3)
		if _, err := w.Write(piece); err != nil {
			return
		}
	}
}

// testErrors: a refused connection, a port in use, a family that is not
// served.
func testErrors() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := l.Addr().String()
	if _, err := net.Listen("tcp", addr); !errors.Is(err, syscall.EADDRINUSE) {
		l.Close()
		return fmt.Errorf("listening twice on %s: %v, want EADDRINUSE", addr, err)
	}
	l.Close()
	if _, err := net.DialTimeout("tcp", "127.0.0.1:1", 30*time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("dial to a closed port: %v, want ECONNREFUSED", err)
	}
	if _, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, 0); !errors.Is(err, syscall.EAFNOSUPPORT) {
		return fmt.Errorf("an AF_PACKET socket: %v, want EAFNOSUPPORT", err)
	}
	if _, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, 0); !errors.Is(err, syscall.EPROTONOSUPPORT) {
		return fmt.Errorf("a raw socket of protocol 0: %v, want EPROTONOSUPPORT", err)
	}
	fd, err := syscall.Open("/dev/null", syscall.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	if err := syscall.Listen(fd, 1); !errors.Is(err, syscall.ENOTSOCK) {
		return fmt.Errorf("listen on /dev/null: %v, want ENOTSOCK", err)
	}
	return nil
}

// testManyConns: 200 concurrent connections to one server, each echoing
// its own message.
func testManyConns() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	const conns = 200
	errs := make(chan error, conns)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", l.Addr().String(), 60*time.Second)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(120 * time.Second))
			msg := fmt.Sprintf("connection %d says hello", i)
			if _, err := c.Write([]byte(msg)); err != nil {
				errs <- err
				return
			}
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(c, got); err != nil || string(got) != msg {
				errs <- fmt.Errorf("connection %d: %q (%v)", i, got, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}
	return nil
}
