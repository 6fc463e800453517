package tcp

import (
	"time"

	"valence.dev/servers/net/socket"
)

// onRetransmit runs when the retransmission timer expires (RFC 6298
// section 5.4 to 5.6): back off the timer, shrink the congestion window,
// and resend from the oldest unacknowledged byte.
func (c *Conn) onRetransmit() {
	if c.state.synchronized() && c.sndWnd == 0 && c.sndUna != c.sndMax {
		// The peer shut its window on data we had sent: that is not loss.
		// Hand over to the persist timer, which probes without giving up
		// while the peer answers, and resend from SND.UNA once it opens.
		c.sndNxt = c.sndUna
		if !c.persist.Armed() {
			c.persist.Set(c.host.Now() + c.persistTimeout())
		}
		return
	}
	c.host.Stats().Timeouts++
	c.backoff++
	limit := c.cfg.MaxRetries
	if c.state == SynSent || c.state == SynReceived {
		limit = c.cfg.SynRetries
	}
	if c.backoff > limit {
		c.enterClosed(socket.ErrTimeout)
		return
	}
	c.rto = min(2*c.rto, c.cfg.MaxRTO)
	c.timing = false
	switch c.state {
	case SynSent, SynReceived:
		c.host.Stats().Retransmits++
		c.sendSyn()
		return
	case Established, FinWait1, CloseWait, Closing, LastAck:
	default:
		return
	}
	if c.sndUna == c.sndMax {
		return
	}
	c.onRetransmitTimeout()
	c.sndNxt = c.sndUna // go back and resend, one window at a time
	c.rexmt.Set(c.host.Now() + c.rto)
	c.output()
}

// persistTimeout is the backed-off interval between zero-window probes.
func (c *Conn) persistTimeout() (d time.Duration) {
	d = c.rto << min(c.persistBackoff, 10)
	return min(max(d, c.cfg.MinRTO), c.cfg.MaxRTO)
}

// onPersist probes a zero window (RFC 9293 section 3.8.6.1, RFC 1122
// section 4.2.2.17). The probe is an empty segment one byte below SND.UNA,
// outside the receiver's window, which makes it answer with an ACK that
// carries its current window; it uses no sequence space, so nothing needs
// undoing if the window is still shut. The connection is kept open for as
// long as the peer answers.
func (c *Conn) onPersist() {
	if c.sndWnd != 0 || !c.state.synchronized() {
		return
	}
	c.host.Stats().ZeroWindowProbes++
	h := c.header(c.sndUna-1, FlagACK)
	c.emit(&h)
	c.persistBackoff++
	c.persist.Set(c.host.Now() + c.persistTimeout())
}

// onDelayedAck sends an acknowledgment that was being held back.
func (c *Conn) onDelayedAck() {
	if c.ackPending > 0 {
		c.sendAck()
	}
}

// onKeepAlive sends a keep-alive probe after the connection has been idle
// (RFC 1122 section 4.2.3.6): like a zero-window probe, an empty segment
// with SEG.SEQ = SND.NXT - 1 that the peer must acknowledge. After
// KeepCount unanswered probes the connection is dropped.
func (c *Conn) onKeepAlive() {
	if !c.keepAlive || !c.state.synchronized() || c.state == TimeWait {
		return
	}
	now := c.host.Now()
	idle := now - c.lastRecv
	if idle < c.cfg.KeepIdle && c.keepProbes == 0 {
		c.keep.Set(c.lastRecv + c.cfg.KeepIdle)
		return
	}
	if c.keepProbes >= c.cfg.KeepCount {
		c.sendReset(c.sndNxt)
		c.enterClosed(socket.ErrTimeout)
		return
	}
	c.keepProbes++
	c.host.Stats().KeepAlive++
	h := c.header(c.sndNxt-1, FlagACK)
	c.emit(&h)
	c.keep.Set(now + c.cfg.KeepInterval)
}

// onWait ends TIME-WAIT (RFC 9293 section 3.10.8) or gives up on an
// orphaned FIN-WAIT-2 connection whose peer never closed.
func (c *Conn) onWait() {
	switch c.state {
	case TimeWait:
		c.enterClosed(nil)
	case FinWait2:
		if c.orphan {
			c.enterClosed(socket.ErrTimeout)
		}
	}
}

// ReopenableBy reports whether segment h, a SYN for this connection's
// four-tuple, may start a new incarnation while this one is in TIME-WAIT:
// RFC 9293 section 3.10.7.4 allows it (as RFC 6191 describes) when the new
// SYN's sequence number is beyond anything the old connection used, so no
// old duplicate can be taken for new data.
func (c *Conn) ReopenableBy(h *Header) bool {
	return c.state == TimeWait && h.Flags&(FlagSYN|FlagACK|FlagRST) == FlagSYN && c.rcvNxt.LessThan(h.Seq)
}

// EndTimeWait closes a connection in TIME-WAIT at once, for ReopenableBy.
func (c *Conn) EndTimeWait() {
	if c.state == TimeWait {
		c.enterClosed(nil)
	}
}
