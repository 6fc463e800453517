package tcp

// User calls (RFC 9293 section 3.10: OPEN is Connect and NewListener;
// SEND, RECEIVE, CLOSE, ABORT and STATUS are below). None blocks: where the
// RFC would queue a call, these return socket.ErrWouldBlock and the caller
// waits for a readiness notification.

import (
	"fmt"
	"io"
	"time"

	"valence.dev/servers/net/socket"
)

// Events implements socket.Socket.
func (c *Conn) Events() socket.Events {
	var ev socket.Events
	if c.rcvBuf.Len() > 0 || c.finRcvd || c.err != nil || c.readShut {
		ev |= socket.Readable
	}
	if (c.state == Established || c.state == CloseWait) && !c.finQueued && c.sndBuf.Free() > 0 {
		ev |= socket.Writable
	}
	if c.err != nil {
		ev |= socket.Error | socket.Writable | socket.Hangup
	}
	if c.state == Closed || (c.finRcvd && c.finQueued) {
		ev |= socket.Hangup
	}
	return ev
}

// Read moves received data into p. After the peer's FIN and the data
// before it, Read returns io.EOF.
func (c *Conn) Read(p []byte) (int, error) {
	if c.rcvBuf.Len() == 0 {
		switch {
		case c.err != nil:
			return 0, c.err
		case c.finRcvd || c.readShut:
			return 0, io.EOF
		case c.state == SynSent || c.state == SynReceived:
			return 0, socket.ErrWouldBlock
		case c.state == Closed:
			return 0, socket.ErrNotConnected
		}
		return 0, socket.ErrWouldBlock
	}
	n := c.rcvBuf.Read(p)
	c.maybeWindowUpdate()
	return n, nil
}

// Peek copies received data into p without consuming it (MSG_PEEK). It
// returns what Read would, except that the data stays.
func (c *Conn) Peek(p []byte) (int, error) {
	if c.rcvBuf.Len() == 0 {
		return c.Read(p) // nothing to consume: the same answer
	}
	a, b := c.rcvBuf.Peek(0, min(len(p), c.rcvBuf.Len()))
	n := copy(p, a)
	return n + copy(p[n:], b), nil
}

// PeerClosed reports whether the peer's FIN has arrived (in sequence):
// the receiving direction ends after the data buffered now.
func (c *Conn) PeerClosed() bool { return c.finRcvd }

// Buffered returns the number of received bytes waiting to be read.
func (c *Conn) Buffered() int { return c.rcvBuf.Len() }

// Write queues data from p for sending and returns how much was taken.
func (c *Conn) Write(p []byte) (int, error) {
	switch {
	case c.err != nil:
		return 0, c.err
	case c.finQueued:
		return 0, socket.ErrShutdown
	case c.state == SynSent || c.state == SynReceived:
		return 0, socket.ErrWouldBlock
	case c.state != Established && c.state != CloseWait:
		return 0, socket.ErrNotConnected
	}
	if len(p) == 0 {
		return 0, nil
	}
	n := c.sndBuf.Append(p)
	if n == 0 {
		return 0, socket.ErrWouldBlock
	}
	c.output()
	return n, nil
}

// CloseWrite shuts down the sending direction: a FIN follows the queued
// data (RFC 9293 section 3.10.4).
func (c *Conn) CloseWrite() error {
	switch c.state {
	case SynSent:
		c.enterClosed(nil)
		return nil
	case Established, CloseWait, SynReceived:
	default:
		if c.err != nil {
			return c.err
		}
		return nil // already closing
	}
	if c.finQueued {
		return nil
	}
	c.finQueued = true
	if c.state == CloseWait {
		c.state = LastAck
	} else if c.state == Established {
		c.state = FinWait1
	}
	// In SYN-RECEIVED the FIN waits until the handshake completes.
	c.output()
	c.changed()
	return nil
}

// CloseRead shuts down the receiving direction: data already received and
// data still arriving is discarded.
func (c *Conn) CloseRead() {
	c.readShut = true
	c.rcvBuf.Discard(c.rcvBuf.Len())
	c.changed()
}

// Close releases the connection from the application. Unread data makes
// it a reset (RFC 1122 section 4.2.2.13: closing with data pending tells
// the peer the data was lost); otherwise the connection finishes its
// close in the background and the stack forgets it when it is done.
func (c *Conn) Close() {
	if c.orphan {
		return
	}
	c.orphan = true
	c.SetNotify(nil)
	if c.state == Closed {
		return
	}
	if c.state == TimeWait {
		c.releaseBuffers() // nobody will read what is left
		return
	}
	if c.rcvBuf.Len() > 0 || c.state == SynSent {
		c.Abort()
		return
	}
	c.readShut = true
	c.CloseWrite()
	if c.state == FinWait2 {
		c.wait.Set(c.host.Now() + c.cfg.FinWait2Timeout)
	}
}

// Abort resets the connection (RFC 9293 section 3.10.5).
func (c *Conn) Abort() {
	switch c.state {
	case SynReceived, Established, FinWait1, FinWait2, CloseWait:
		c.sendReset(c.sndNxt)
	}
	c.enterClosed(socket.ErrConnAborted)
}

// SetKeepAlive turns keep-alive probing on or off (RFC 1122 section
// 4.2.3.6). idle, interval and count override the configuration when
// nonzero.
func (c *Conn) SetKeepAlive(on bool, idle, interval time.Duration, count int) {
	c.keepAlive = on
	if idle > 0 {
		c.cfg.KeepIdle = idle
	}
	if interval > 0 {
		c.cfg.KeepInterval = interval
	}
	if count > 0 {
		c.cfg.KeepCount = count
	}
	c.keep.Stop()
	if on && c.state.synchronized() {
		c.keep.Set(c.lastRecv + c.cfg.KeepIdle)
	}
}

// SetNoDelay turns Nagle's algorithm off (true) or on.
func (c *Conn) SetNoDelay(on bool) { c.noDelay = on }

// String describes the connection's state for logs and test failures.
func (c *Conn) String() string {
	return fmt.Sprintf("%v->%v %v una=%d nxt=%d max=%d sndwnd=%d cwnd=%d ssthresh=%d sndbuf=%d fin=%v | rcvnxt=%d rcvwnd=%d rcvbuf=%d finrcvd=%v | rto=%v timers rexmt=%v persist=%v delack=%v",
		c.id.Local, c.id.Remote, c.state, c.sndUna-c.iss, c.sndNxt-c.iss, c.sndMax-c.iss, c.sndWnd, c.cwnd, c.ssthresh,
		c.sndBuf.Len(), c.finQueued, c.rcvNxt-c.irs, c.rcvAdv.Sub(c.rcvNxt), c.rcvBuf.Len(), c.finRcvd, c.rto,
		c.rexmt.Armed(), c.persist.Armed(), c.delack.Armed())
}

// Negotiated returns what the handshake settled: the segment size we send,
// and the window shifts applied to the peer's windows and to ours.
func (c *Conn) Negotiated() (sndMSS, sndWScale, rcvWScale int) {
	return c.sndMSS, c.sndWScale, c.rcvWScale
}
