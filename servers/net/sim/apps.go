package sim

import (
	"errors"
	"io"

	"valence.dev/servers/net/socket"
	"valence.dev/servers/net/tcp"
)

// Sink reads everything a connection delivers.
type Sink struct {
	Data []byte
	EOF  bool
	Err  error
	// Paused stops reading (to let the receive window fill).
	Paused bool
	conn   *tcp.Conn
}

// ReadAll attaches a Sink to c: on every readiness notification it drains
// the connection.
func ReadAll(c *tcp.Conn) *Sink {
	k := &Sink{conn: c}
	c.SetNotify(func(socket.Events) { k.Drain() })
	k.Drain()
	return k
}

// Drain reads what is available now.
func (k *Sink) Drain() {
	if k.Paused {
		return
	}
	buf := make([]byte, 64<<10)
	for !k.EOF && k.Err == nil {
		n, err := k.conn.Read(buf)
		k.Data = append(k.Data, buf[:n]...)
		switch {
		case errors.Is(err, socket.ErrWouldBlock):
			return
		case err == io.EOF:
			k.EOF = true
		case err != nil:
			k.Err = err
		}
	}
}

// Source writes a fixed buffer into a connection as the window allows.
type Source struct {
	Data   []byte
	Sent   int
	Err    error
	Close  bool // close the write side when everything is queued
	closed bool
	conn   *tcp.Conn
}

// WriteAll attaches a Source that writes data to c and then, if closeAfter,
// shuts down the write side.
func WriteAll(c *tcp.Conn, data []byte, closeAfter bool) *Source {
	s := &Source{Data: data, Close: closeAfter, conn: c}
	c.SetNotify(func(socket.Events) { s.Pump() })
	s.Pump()
	return s
}

// Pump writes what fits now.
func (s *Source) Pump() {
	for s.Sent < len(s.Data) && s.Err == nil {
		n, err := s.conn.Write(s.Data[s.Sent:])
		s.Sent += n
		if errors.Is(err, socket.ErrWouldBlock) {
			return
		}
		if err != nil {
			s.Err = err
			return
		}
	}
	if s.Sent == len(s.Data) && s.Close && !s.closed {
		s.closed = true
		s.conn.CloseWrite()
	}
}

// Done reports whether all data was queued.
func (s *Source) Done() bool { return s.Sent == len(s.Data) }
