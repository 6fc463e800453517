package services

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"

	"valence.dev/servers/net/socket"
	"valence.dev/servers/net/stack"
	"valence.dev/servers/net/tcp"
)

// Standard ports.
const (
	EchoPort     = 7
	DiscardPort  = 9
	HTTPPort     = 80
	ChecksumPort = 5001
)

// serveTCP listens on port and runs a handler, built by newHandler, for
// each accepted connection. It must be called on the event loop.
func serveTCP(s *stack.Stack, port uint16, newHandler func(*tcp.Conn) func()) (*tcp.Listener, error) {
	l, err := s.ListenTCP(port, 128)
	if err != nil {
		return nil, err
	}
	l.SetNotify(func(socket.Events) {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			run := newHandler(c)
			c.SetNotify(func(socket.Events) { run() })
			run()
		}
	})
	return l, nil
}

// ServeEcho runs the TCP Echo service (RFC 862 section 2) on port.
func ServeEcho(s *stack.Stack, port uint16) (*tcp.Listener, error) {
	return serveTCP(s, port, func(c *tcp.Conn) func() {
		buf := make([]byte, 32<<10)
		var pending []byte
		eof := false
		return func() {
			for {
				if len(pending) > 0 {
					n, err := c.Write(pending)
					pending = pending[n:]
					if errors.Is(err, socket.ErrWouldBlock) {
						return
					}
					if err != nil {
						c.Close()
						return
					}
					continue
				}
				if eof {
					c.Close() // everything echoed: finish our side too
					return
				}
				n, err := c.Read(buf)
				switch {
				case errors.Is(err, socket.ErrWouldBlock):
					return
				case err == io.EOF:
					eof = true
				case err != nil:
					c.Close()
					return
				}
				pending = buf[:n]
			}
		}
	})
}

// ServeDiscard runs the TCP Discard service (RFC 863 section 2).
func ServeDiscard(s *stack.Stack, port uint16) (*tcp.Listener, error) {
	return serveTCP(s, port, func(c *tcp.Conn) func() {
		buf := make([]byte, 64<<10)
		return func() {
			for {
				_, err := c.Read(buf)
				if errors.Is(err, socket.ErrWouldBlock) {
					return
				}
				if err != nil {
					c.Close()
					return
				}
			}
		}
	})
}

// ServeChecksum runs the checksum test service described in the package
// documentation.
func ServeChecksum(s *stack.Stack, port uint16) (*tcp.Listener, error) {
	return serveTCP(s, port, func(c *tcp.Conn) func() {
		buf := make([]byte, 64<<10)
		var h hash.Hash = sha256.New()
		var reply []byte
		return func() {
			for reply == nil {
				n, err := c.Read(buf)
				h.Write(buf[:n])
				if errors.Is(err, socket.ErrWouldBlock) {
					return
				}
				if err == io.EOF {
					reply = []byte(hex.EncodeToString(h.Sum(nil)) + "\n")
					break
				}
				if err != nil {
					c.Close()
					return
				}
			}
			for len(reply) > 0 {
				n, err := c.Write(reply)
				reply = reply[n:]
				if errors.Is(err, socket.ErrWouldBlock) {
					return
				}
				if err != nil {
					break
				}
			}
			c.Close()
		}
	})
}

// ServeUDPEcho runs the UDP Echo service (RFC 862 section 3).
func ServeUDPEcho(s *stack.Stack, port uint16) (*stack.UDPSocket, error) {
	u, err := s.ListenUDP(port)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 65536)
	u.SetNotify(func(socket.Events) {
		for {
			n, from, err := u.RecvFrom(buf)
			if errors.Is(err, socket.ErrWouldBlock) || errors.Is(err, socket.ErrClosed) {
				return
			}
			if err != nil {
				continue // an ICMP error from an earlier reply
			}
			u.SendTo(buf[:n], from)
		}
	})
	return u, nil
}
