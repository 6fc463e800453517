package tcp

import "valence.dev/servers/net/socket"

// HandleSegment processes one arriving segment, following "Segment
// Arrives" in RFC 9293 section 3.10.7.
func (c *Conn) HandleSegment(h *Header, payload []byte) {
	c.host.Stats().SegmentsIn++
	switch c.state {
	case Closed, Listen:
		return
	case SynSent:
		c.synSentInput(h, payload)
		return
	}
	c.lastRecv = c.host.Now()
	c.keepProbes = 0

	// A retransmitted SYN in SYN-RECEIVED means our SYN-ACK was lost.
	if c.state == SynReceived && h.Flags&(FlagSYN|FlagACK|FlagRST) == FlagSYN && h.Seq == c.irs {
		c.sendSyn()
		return
	}

	// First, check the sequence number (section 3.10.7.4).
	if !c.acceptable(h.Seq, segLen(h, len(payload))) {
		c.host.Stats().DroppedOutOfWindow++
		if h.Flags&FlagRST == 0 {
			if c.state == TimeWait && h.Flags&FlagFIN != 0 {
				c.wait.Set(c.host.Now() + 2*c.cfg.MSL) // the peer's FIN again
			}
			c.sendInvalidAck(len(payload) > 0 || h.Flags&FlagFIN != 0)
		}
		return
	}
	// Second, the RST bit, with the stricter check of RFC 5961 section 3.2:
	// only a reset at exactly RCV.NXT is obeyed; others in the window get a
	// challenge ACK, so a blind attacker must guess the exact number.
	if h.Flags&FlagRST != 0 {
		c.host.Stats().ResetsIn++
		if c.state == TimeWait {
			// RFC 1337 section 3 (fix F1): a reset must not cut TIME-WAIT
			// short, or old duplicates could reach a new incarnation.
			return
		}
		if h.Seq != c.rcvNxt {
			c.challengeAck()
			return
		}
		c.resetInput()
		return
	}
	// Fourth, the SYN bit: in a synchronized state a SYN gets a challenge
	// ACK (RFC 9293 section 3.10.7.4 recommends RFC 5961 section 4).
	if h.Flags&FlagSYN != 0 {
		c.challengeAck()
		return
	}
	// Fifth, the ACK field.
	if h.Flags&FlagACK == 0 {
		return
	}
	if !c.ackInput(h, len(payload)) {
		return
	}
	// Seventh, the segment text; eighth, the FIN bit.
	c.dataInput(h, payload)
	c.output()
}

// acceptable is the four-case test of RFC 9293 section 3.10.7.4.
func (c *Conn) acceptable(seq Seq, n int) bool {
	wnd := max(c.rcvAdv.Sub(c.rcvNxt), 0)
	switch {
	case n == 0 && wnd == 0:
		return seq == c.rcvNxt
	case n == 0:
		return seq.InWindow(c.rcvNxt, wnd)
	case wnd == 0:
		return false
	}
	return seq.InWindow(c.rcvNxt, wnd) || seq.Add(n-1).InWindow(c.rcvNxt, wnd)
}

// resetInput handles an acceptable RST in a synchronized or SYN-RECEIVED
// state (RFC 9293 section 3.10.7.4, "second, check the RST bit").
func (c *Conn) resetInput() {
	switch c.state {
	case SynReceived:
		if c.listener != nil {
			// A passive open returns to LISTEN: just forget the attempt.
			c.enterClosed(nil)
			return
		}
		c.enterClosed(socket.ErrConnRefused)
	case Closing, LastAck:
		c.enterClosed(nil)
	default:
		c.enterClosed(socket.ErrConnReset)
	}
}

// synSentInput is "If the state is SYN-SENT" of RFC 9293 section 3.10.7.3.
func (c *Conn) synSentInput(h *Header, payload []byte) {
	if h.Flags&FlagACK != 0 && (h.Ack.LessEq(c.iss) || c.sndNxt.LessThan(h.Ack)) {
		if h.Flags&FlagRST == 0 {
			c.sendReset(h.Ack)
		}
		return
	}
	if h.Flags&FlagRST != 0 {
		c.host.Stats().ResetsIn++
		if h.Flags&FlagACK != 0 {
			c.enterClosed(socket.ErrConnRefused)
		}
		return
	}
	if h.Flags&FlagSYN == 0 {
		return
	}
	c.irs = h.Seq
	c.rcvNxt = h.Seq + 1
	c.rcvAdv = c.rcvNxt
	c.takeSynOptions(h)
	c.sndWnd = int(h.Window) // never scaled in a SYN (RFC 7323 section 2.2)
	c.sndWl1, c.sndWl2 = h.Seq, h.Ack
	c.lastRecv = c.host.Now()
	if h.Flags&FlagACK != 0 {
		c.sndUna = h.Ack
		c.rexmt.Stop()
		c.sampleRTT(h.Ack)
		c.backoff = 0
		c.establish()
		c.sendAck()
		c.output()
		return
	}
	// Simultaneous open (section 3.5, figure 8): answer with SYN,ACK.
	c.state = SynReceived
	c.sendSyn()
}

// takeSynOptions applies the options of the peer's SYN: its MSS (536 if
// absent, RFC 9293 section 3.7.1) and window scaling, which is in effect
// only if both SYNs carried the option (RFC 7323 section 2.2).
func (c *Conn) takeSynOptions(h *Header) {
	mss := 536
	if h.MSS != 0 {
		mss = int(h.MSS)
	}
	c.sndMSS = max(min(mss, c.cfg.MSS), 64)
	if h.WScale >= 0 && c.offerWScale {
		c.sndWScale = h.WScale
	} else {
		c.sndWScale, c.rcvWScale, c.offerWScale = 0, 0, false
	}
	c.initCongestion()
}

// establish moves to ESTABLISHED.
func (c *Conn) establish() {
	c.state = Established
	c.host.Stats().Established++
	if c.keepAlive {
		c.keep.Set(c.lastRecv + c.cfg.KeepIdle)
	}
	if c.listener != nil && !c.accepted {
		c.listener.childEstablished(c)
	}
	c.changed()
}

// ackInput is "fifth, check the ACK field". It reports whether processing
// of the segment continues.
func (c *Conn) ackInput(h *Header, n int) bool {
	switch c.state {
	case SynReceived:
		if !(c.sndUna.LessThan(h.Ack) && h.Ack.LessEq(c.sndMax)) {
			c.sendReset(h.Ack)
			return false
		}
		c.sndWnd = int(h.Window) << c.sndWScale
		c.sndWndMax = max(c.sndWndMax, c.sndWnd)
		c.sndWl1, c.sndWl2 = h.Seq, h.Ack
		c.establish()
		if c.finQueued { // closed while the handshake was in progress
			c.state = FinWait1
		}
	case TimeWait:
		if h.Flags&FlagFIN != 0 {
			c.sendAck()
			c.wait.Set(c.host.Now() + 2*c.cfg.MSL)
		}
		return false
	}
	if c.sndMax.LessThan(h.Ack) {
		// It acknowledges something not yet sent (RFC 9293: send an ACK,
		// drop the segment).
		c.sendInvalidAck(n > 0)
		return false
	}
	c.processAck(h, n)
	finAcked := c.finQueued && c.finSeq().LessThan(c.sndUna)
	switch c.state {
	case FinWait1:
		if finAcked {
			c.state = FinWait2
			if c.orphan {
				c.wait.Set(c.host.Now() + c.cfg.FinWait2Timeout)
			}
			c.changed()
		}
	case Closing:
		if finAcked {
			c.enterTimeWait()
		}
		return false
	case LastAck:
		if finAcked {
			c.enterClosed(nil)
			return false
		}
		c.output() // the ACK may have opened room for data still queued
		return false
	}
	return true
}

// dataInput is "seventh, process the segment text" and "eighth, check the
// FIN bit".
func (c *Conn) dataInput(h *Header, payload []byte) {
	seq := h.Seq
	fin := h.Flags&FlagFIN != 0
	if h.Flags&FlagSYN != 0 {
		seq++
	}
	// Trim what we already have.
	if d := c.rcvNxt.Sub(seq); d > 0 {
		if d > len(payload) {
			payload = nil
		} else {
			payload = payload[d:]
		}
		seq = c.rcvNxt
	}
	switch c.state {
	case Established, FinWait1, FinWait2:
	default:
		return // the peer already sent its FIN: ignore text and FIN
	}
	if len(payload) > 0 {
		if c.orphan {
			// Data for a socket the application closed: it can never be
			// read, so tell the peer (RFC 1122 section 4.2.2.13).
			c.sendReset(c.sndNxt)
			c.enterClosed(socket.ErrConnAborted)
			return
		}
		off := seq.Sub(c.rcvNxt)
		wnd := c.rcvAdv.Sub(c.rcvNxt)
		if off+len(payload) > wnd { // beyond the window: trim, lose the FIN
			payload = payload[:max(wnd-off, 0)]
			fin = false
		}
		var adv int
		if c.readShut {
			if off == 0 { // discard, but acknowledge
				adv = len(payload)
			}
		} else {
			adv = c.rcvBuf.Insert(off, payload)
		}
		c.rcvNxt = c.rcvNxt.Add(adv)
		if off > 0 || c.rcvBuf.OutOfOrder() {
			// Out of order, or filling a gap: acknowledge at once so the
			// sender's fast retransmit works (RFC 5681 section 4.2).
			c.ackPending = 2
		} else if adv > 0 {
			c.ackPending++
		}
		if adv > 0 {
			c.changed()
		}
	}
	if fin {
		c.oooFin, c.oooFinSeq = true, seq.Add(len(payload))
	}
	if c.oooFin && c.oooFinSeq == c.rcvNxt {
		c.oooFin = false
		c.finInput()
		return
	}
	if c.ackPending >= 2 {
		c.sendAck()
	} else if c.ackPending > 0 && !c.delack.Armed() {
		c.delack.Set(c.host.Now() + c.cfg.DelayedAck)
	}
}

// finInput handles a FIN that is next in sequence.
func (c *Conn) finInput() {
	c.rcvNxt++
	c.finRcvd = true
	switch c.state {
	case Established:
		c.state = CloseWait
	case FinWait1:
		if c.finQueued && c.finSeq().LessThan(c.sndUna) {
			c.enterTimeWait()
		} else {
			c.state = Closing // simultaneous close (section 3.6, figure 13)
		}
	case FinWait2:
		c.enterTimeWait()
	}
	c.sendAck()
	c.changed()
}

func (c *Conn) enterTimeWait() {
	c.state = TimeWait
	c.rexmt.Stop()
	c.persist.Stop()
	c.keep.Stop()
	c.delack.Stop()
	c.wait.Set(c.host.Now() + 2*c.cfg.MSL)
	c.releaseBuffers()
	c.changed()
}

// challengeAck sends the ACK of RFC 5961 sections 3.2 and 4.2, within the
// rate limit its section 7 asks for.
func (c *Conn) challengeAck() {
	c.host.Stats().ChallengeAcks++
	c.sendInvalidAck(false)
}

// sendInvalidAck answers a segment that is not acceptable. Answers to
// segments without data are rate-limited per connection: when two ends
// disagree about the sequence space (after a forged segment was accepted,
// say), each would otherwise answer the other's ACK with an ACK forever —
// an "ACK war" that RFC 5961 section 7 and Linux's tcp_invalid_ratelimit
// both guard against. Segments carrying data are always answered, since
// their sender may be retransmitting because our last ACK was lost.
func (c *Conn) sendInvalidAck(hasData bool) {
	now := c.host.Now()
	if !hasData && c.invalidAckSent && now-c.lastInvalidAck < c.cfg.InvalidAckInterval {
		c.host.Stats().InvalidAcksLimited++
		return
	}
	c.invalidAckSent, c.lastInvalidAck = true, now
	c.sendAck()
}

// ICMPError reports a hard ICMP error for this connection (RFC 1122
// section 4.2.3.9). Only a connection still opening gives up on it; an
// established one keeps going and lets its own timers decide.
func (c *Conn) ICMPError(err error) {
	if c.state == SynSent || c.state == SynReceived && c.listener == nil {
		c.enterClosed(err)
	}
}
