package tcp

// What a status report (netstat, /proc/net/tcp) shows of a connection or
// a listener besides its state and addresses.

// SendQueued returns the bytes written and not yet acknowledged by the
// peer (Linux's write_seq - snd_una: /proc/net/tcp's tx_queue).
func (c *Conn) SendQueued() int { return c.sndBuf.Len() }

// Queued returns how many established connections wait to be accepted
// (Linux's sk_ack_backlog: /proc/net/tcp's rx_queue of a listener).
func (l *Listener) Queued() int { return len(l.queue) }

// BufferBytes returns the memory the connection holds for its send and
// receive buffers.
func (c *Conn) BufferBytes() int { return len(c.sndBuf.buf) + len(c.rcvBuf.buf) }

// releaseBuffers gives back the buffers of a connection in TIME-WAIT,
// which holds them for 2 MSL otherwise: everything it sent has been
// acknowledged (its FIN too), and it receives nothing more, so the send
// buffer is empty and the receive buffer is needed only for data its
// owner has not read yet (kept until it has, or closes). A program that
// opens and closes many connections would otherwise leave half a
// megabyte in each for a minute.
func (c *Conn) releaseBuffers() {
	c.sndBuf = ring{}
	if c.orphan || c.rcvBuf.Len() == 0 {
		c.rcvBuf = recvBuffer{}
	}
}
