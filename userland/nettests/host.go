package main

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// gateway is QEMU's user-network host address.
const gateway = "10.0.2.2"

// testHostFetch: an HTTP GET from the host's server (NETTESTS_HOST) of
// 1 MiB, checked by its hash, which the host's server announces in a
// header.
func testHostFetch() error {
	port := os.Getenv("NETTESTS_HOST")
	if port == "" {
		return errors.New("NETTESTS_HOST is not set")
	}
	client := &http.Client{Timeout: 5 * time.Minute}
	resp, err := client.Get(fmt.Sprintf("http://%s:%s/bytes?n=%d", gateway, port, 1<<20))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil {
		return fmt.Errorf("after %d bytes: %w", n, err)
	}
	if got, want := fmt.Sprintf("%x", h.Sum(nil)), resp.Header.Get("X-Sha256"); got != want {
		return fmt.Errorf("%d bytes with sha256 %s, the host says %s", n, got, want)
	}
	return nil
}

// testHostUDP: a datagram to the host's echo server comes back.
func testHostUDP() error {
	port := os.Getenv("NETTESTS_UDP")
	if port == "" {
		return errors.New("NETTESTS_UDP is not set")
	}
	c, err := net.Dial("udp", net.JoinHostPort(gateway, port))
	if err != nil {
		return err
	}
	defer c.Close()
	msg := []byte("valence says hello over udp")
	buf := make([]byte, 100)
	for try := 0; try < 5; try++ { // UDP: a datagram may be lost
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(msg); err != nil {
			return err
		}
		n, err := c.Read(buf)
		if err == nil && bytes.Equal(buf[:n], msg) {
			return nil
		}
	}
	return errors.New("no echo from the host")
}

// testServe serves HTTP on :8080 for the host (through QEMU's port
// forward) until it asks /quit: /bytes?n=N downloads, /upload answers
// the sha256 of what it was sent.
func testServe() error {
	done := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/bytes", serveBytes)
	mux.HandleFunc("/upload", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "%d %x\n", n, h.Sum(nil))
	})
	mux.HandleFunc("/quit", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "bye")
		select {
		case <-done:
		default:
			close(done)
		}
	})
	l, err := net.Listen("tcp", ":8080")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	fmt.Println("nettests: serving on :8080")
	select {
	case <-done:
	case <-time.After(15 * time.Minute):
		srv.Close()
		return errors.New("the host never asked /quit")
	}
	time.Sleep(100 * time.Millisecond) // let /quit's answer go out
	return srv.Close()
}
