package tcp

// finSeq is the sequence number of our FIN: just after the last byte the
// application queued. Meaningful once finQueued is set.
func (c *Conn) finSeq() Seq { return c.sndBufSeq.Add(c.sndBuf.Len()) }

// header returns a header from us to the peer with the current
// acknowledgment and window.
func (c *Conn) header(seq Seq, flags uint8) Header {
	h := Header{SrcPort: c.id.Local.Port(), DstPort: c.id.Remote.Port(), Seq: seq, Flags: flags, WScale: -1}
	if flags&FlagACK != 0 {
		h.Ack = c.rcvNxt
	}
	win := c.rcvWindow()
	c.rcvAdv = c.rcvNxt.Add(win)
	h.Window = uint16(win >> c.rcvWScale)
	return h
}

// rcvWindowFree is the space the window could cover right now.
func (c *Conn) rcvWindowFree() int {
	if c.readShut {
		return c.rcvBuf.Cap()
	}
	return c.rcvBuf.Free()
}

// rcvWindow chooses the window to advertise. Receiver-side silly window
// avoidance (RFC 9293 section 3.8.6.2.2): the right edge moves only by at
// least min(buffer/2, MSS), and it never moves left.
func (c *Conn) rcvWindow() int {
	cur := max(c.rcvAdv.Sub(c.rcvNxt), 0)
	free := c.rcvWindowFree()
	win := cur
	if free-cur >= min(c.rcvBuf.Cap()/2, c.cfg.MSS) {
		win = free
	}
	win = min(win, 0xffff<<c.rcvWScale)
	// The window field carries win >> shift: round up rather than shrink,
	// unless that would promise more than the buffer holds. The right
	// edge then moves left by less than 1<<shift (RFC 7323 section 2.4
	// allows for it); promising space that is not there would leave the
	// sender retransmitting into a full buffer until it gave up.
	if r := win & (1<<c.rcvWScale - 1); r != 0 {
		if up := win + 1<<c.rcvWScale - r; up <= free {
			win = up
		} else {
			win -= r
		}
	}
	return win
}

// maybeWindowUpdate sends a window update after the application read,
// when the window grew by at least two segments or half the buffer, or
// reopened from zero (section 3.8.6.2.2).
func (c *Conn) maybeWindowUpdate() {
	if !c.state.synchronized() || c.state == TimeWait {
		return
	}
	cur := max(c.rcvAdv.Sub(c.rcvNxt), 0)
	free := c.rcvWindowFree()
	grow := free - cur
	if grow >= min(c.rcvBuf.Cap()/2, 2*c.cfg.MSS) || (cur == 0 && grow >= c.cfg.MSS) {
		c.sendAck()
	}
}

func (c *Conn) emit(h *Header, payload ...[]byte) {
	c.host.Stats().SegmentsOut++
	if h.Flags&FlagACK != 0 {
		c.ackPending = 0
		c.delack.Stop()
	}
	c.host.Output(c.id, h, payload...)
}

// sendSyn sends our SYN (SYN-SENT) or SYN,ACK (SYN-RECEIVED), with the
// MSS and window-scale options (RFC 9293 section 3.7.1, RFC 7323 section
// 2.2). The window in a SYN is never scaled.
func (c *Conn) sendSyn() {
	flags := FlagSYN
	if c.state == SynReceived {
		flags |= FlagACK
	}
	h := c.header(c.iss, flags)
	win := min(c.rcvWindowFree(), 0xffff)
	h.Window = uint16(win)
	c.rcvAdv = c.rcvNxt.Add(win)
	h.MSS = uint16(c.cfg.MSS)
	if c.offerWScale {
		h.WScale = c.rcvWScale
	}
	c.sndNxt = c.iss + 1
	c.sndMax = maxSeq(c.sndMax, c.sndNxt)
	if !c.rexmt.Armed() {
		c.rexmt.Set(c.host.Now() + c.rto)
	}
	if c.backoff == 0 && !c.timing {
		c.timing, c.timedSeq, c.timedAt = true, c.sndNxt, c.host.Now()
	}
	c.emit(&h)
}

// sendAck sends an empty ACK at SND.NXT.
func (c *Conn) sendAck() {
	if c.state == SynSent || c.state == Closed {
		return
	}
	h := c.header(c.sndNxt, FlagACK)
	c.emit(&h)
}

// sendReset sends <SEQ=seq><CTL=RST>.
func (c *Conn) sendReset(seq Seq) {
	h := Header{SrcPort: c.id.Local.Port(), DstPort: c.id.Remote.Port(), Seq: seq, Flags: FlagRST, WScale: -1}
	c.host.Stats().ResetsOut++
	c.host.Stats().SegmentsOut++
	c.host.Output(c.id, &h)
}

// output sends whatever the windows allow: new data, a retransmission
// after a timeout (SND.NXT was pulled back to SND.UNA), the FIN, and any
// acknowledgment that is due.
func (c *Conn) output() {
	switch c.state {
	case Established, FinWait1, CloseWait, LastAck, Closing:
	default:
		if c.ackPending >= 2 {
			c.sendAck()
		}
		return
	}
	for c.sendSegment() {
	}
	if c.ackPending >= 2 {
		c.sendAck()
	}
}

// sendSegment sends one segment if the windows, Nagle's rule and sender
// silly window avoidance (RFC 9293 section 3.8.6.2.1) allow, and reports
// whether it sent one.
func (c *Conn) sendSegment() bool {
	dataEnd := c.sndBufSeq.Add(c.sndBuf.Len())
	pending := dataEnd.Sub(c.sndNxt) // < 0 once the FIN is out
	inFlight := c.sndNxt.Sub(c.sndUna)
	usable := max(min(c.sndWnd, c.cwnd)-inFlight, 0)
	n := max(min(pending, c.sndMSS, usable), 0)
	finDue := c.finQueued && pending >= 0 && n == pending
	if n == 0 && !finDue {
		if pending > 0 && c.sndWnd == 0 && inFlight == 0 && !c.persist.Armed() {
			c.persist.Set(c.host.Now() + c.persistTimeout())
		}
		return false
	}
	if n > 0 && n < c.sndMSS && !finDue {
		switch {
		case n == pending && (c.noDelay || inFlight == 0):
		case inFlight == 0:
			// Window-limited with nothing outstanding: no ACK will come to
			// open it further, so send what fits.
		case n >= c.sndWndMax/2 && c.sndWndMax > 0:
		default:
			return false
		}
	}
	flags := FlagACK
	if n > 0 && n == pending {
		flags |= FlagPSH
	}
	if finDue {
		flags |= FlagFIN
	}
	seq := c.sndNxt
	h := c.header(seq, flags)
	off := seq.Sub(c.sndBufSeq)
	a, b := c.sndBuf.Peek(off, n)
	end := seq.Add(n)
	if finDue {
		end++
	}
	if seq.LessThan(c.sndMax) {
		c.host.Stats().Retransmits++
		c.timing = false // Karn's rule
	} else if !c.timing {
		c.timing, c.timedSeq, c.timedAt = true, end, c.host.Now()
	}
	c.sndNxt = end
	c.sndMax = maxSeq(c.sndMax, end)
	if !c.rexmt.Armed() {
		c.rexmt.Set(c.host.Now() + c.rto)
	}
	c.emit(&h, a, b)
	return !finDue
}

// retransmitFirst resends the first unacknowledged segment without
// disturbing SND.NXT (fast retransmit, RFC 5681 section 3.2 step 4).
func (c *Conn) retransmitFirst() {
	dataEnd := c.sndBufSeq.Add(c.sndBuf.Len())
	n := min(max(dataEnd.Sub(c.sndUna), 0), c.sndMSS)
	flags := FlagACK
	if c.finQueued && c.sndUna.Add(n) == dataEnd && c.finSeq().LessThan(c.sndMax) {
		flags |= FlagFIN
	}
	if n == 0 && flags&FlagFIN == 0 {
		return
	}
	h := c.header(c.sndUna, flags)
	a, b := c.sndBuf.Peek(c.sndUna.Sub(c.sndBufSeq), n)
	c.host.Stats().Retransmits++
	c.timing = false
	c.emit(&h, a, b)
}
