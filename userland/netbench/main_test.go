package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNet4Mask(t *testing.T) {
	for _, tc := range []struct {
		bits int
		want []byte
	}{
		{0, []byte{0, 0, 0, 0}},
		{8, []byte{255, 0, 0, 0}},
		{24, []byte{255, 255, 255, 0}},
		{27, []byte{255, 255, 255, 224}},
		{32, []byte{255, 255, 255, 255}},
	} {
		if diff := cmp.Diff(tc.want, net4Mask(tc.bits)); diff != "" {
			t.Errorf("net4Mask(%d) (-want +got):\n%s", tc.bits, diff)
		}
	}
}

// serveOne runs serve on a loopback listener and returns its address.
func serveOne(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go acceptLoop(l, serve)
	return l.Addr().String()
}

// TestSink checks that the sink's reports never go down and that the
// last, after EOF, counts every byte sent.
func TestSink(t *testing.T) {
	addr := serveOne(t, sink)
	for _, size := range []int{0, 1, 3 << 20} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			c.Write(make([]byte, size))
			c.(*net.TCPConn).CloseWrite()
		}()
		var counts []int
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			n, err := strconv.Atoi(sc.Text())
			if err != nil || (len(counts) > 0 && n < counts[len(counts)-1]) {
				t.Errorf("sending %d bytes: report %q after %v", size, sc.Text(), counts)
			}
			counts = append(counts, n)
		}
		c.Close()
		if len(counts) == 0 || counts[len(counts)-1] != size {
			t.Errorf("sending %d bytes: reports %v, want the last to be %d", size, counts, size)
		}
	}
}

// TestSourceAndGreet checks what the source and connect ports send.
func TestSourceAndGreet(t *testing.T) {
	for _, tc := range []struct {
		name  string
		serve func(net.Conn)
		read  int
		check func([]byte) bool
	}{
		{"source", source, 1 << 20, func(b []byte) bool {
			// Not all zero: nothing on the way may compress it away.
			for _, x := range b[1:] {
				if x != 0 {
					return true
				}
			}
			return false
		}},
		{"greet", greet, 1, func(b []byte) bool { return string(b) == "+" }},
	} {
		c, err := net.Dial("tcp", serveOne(t, tc.serve))
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		b := make([]byte, tc.read)
		if _, err := io.ReadFull(c, b); err != nil || !tc.check(b) {
			t.Errorf("%s: read %d bytes: %v, or not what it should send", tc.name, tc.read, err)
		}
		c.Close()
	}
}

func TestHandler(t *testing.T) {
	quit := make(chan struct{})
	srv := httptest.NewServer(handler(quit))
	defer srv.Close()
	for _, tc := range []struct {
		path, body string
		status     int
		quit       bool
	}{
		{"/", httpBody, http.StatusOK, false},
		{"/other", "404 page not found\n", http.StatusNotFound, false},
		{"/quit", "bye\n", http.StatusOK, true},
		{"/quit", "bye\n", http.StatusOK, true}, // again: no double close
	} {
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || string(b) != tc.body {
			t.Errorf("GET %s: %d %q, want %d %q", tc.path, resp.StatusCode, b, tc.status, tc.body)
		}
		quitted := false
		select {
		case <-quit:
			quitted = true
		default:
		}
		if quitted != tc.quit {
			t.Errorf("after GET %s: quit closed %v, want %v", tc.path, quitted, tc.quit)
		}
	}
	if len(httpBody) != 64 {
		t.Errorf("the body is %d bytes, want 64 (tools/bench and the docs say so)", len(httpBody))
	}
}
