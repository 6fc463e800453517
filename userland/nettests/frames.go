package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// testFrames is the guest's half of tests/netframes_test.go: it listens
// where the host's hostile segments aim (TCP 8080, UDP 7), says it is
// ready, waits for the host to say on the console that it has sent its
// frames, and then checks that the stack still serves: the loopback
// tests pass again. Run only when named (NETTESTS=frames): it waits for
// input.
func testFrames() error {
	l, err := net.Listen("tcp", ":8080")
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
			go func() {
				c.SetDeadline(time.Now().Add(5 * time.Second))
				io.Copy(io.Discard, c)
				c.Close()
			}()
		}
	}()
	u, err := net.ListenPacket("udp", ":7")
	if err != nil {
		return err
	}
	defer u.Close()
	go func() {
		b := make([]byte, 65536)
		for {
			if _, _, err := u.ReadFrom(b); err != nil {
				return
			}
		}
	}()
	fmt.Println("nettests: frames: ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return fmt.Errorf("waiting for the host: %v", err)
	}
	for _, t := range []test{{"tcp-loopback", testTCPLoopback}, {"udp-loopback", testUDPLoopback}, {"http-loopback", testHTTPLoopback}} {
		if err := t.run(); err != nil {
			return fmt.Errorf("after the frames, %s: %w", t.name, err)
		}
	}
	return nil
}
