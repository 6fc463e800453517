package tcp

import "time"

// initCongestion sets the initial window of RFC 5681 section 3.1 (equation
// 1) once the segment size is known.
func (c *Conn) initCongestion() {
	m := c.sndMSS
	switch {
	case m > 2190:
		c.cwnd = 2 * m
	case m > 1095:
		c.cwnd = 3 * m
	default:
		c.cwnd = 4 * m
	}
	c.ssthresh = 1 << 30 // "arbitrarily high" (section 3.1)
}

// flightSize is the data sent but not yet acknowledged.
func (c *Conn) flightSize() int { return c.sndMax.Sub(c.sndUna) }

// processAck handles the acknowledgment and window fields of a segment in
// a synchronized state: it frees acknowledged data, samples the round-trip
// time, updates the send window, and runs congestion control (RFC 5681
// with the NewReno modification of RFC 6582).
func (c *Conn) processAck(h *Header, n int) {
	ack := h.Ack
	wnd := int(h.Window) << c.sndWScale
	if ack.LessThan(c.sndUna) {
		return // an old duplicate: nothing to learn
	}
	// Duplicate ACK, as defined in RFC 5681 section 2.
	if ack == c.sndUna {
		if n == 0 && h.Flags&(FlagSYN|FlagFIN) == 0 && wnd == c.sndWnd && c.sndMax != c.sndUna {
			c.duplicateAck()
		} else {
			c.updateWindow(h, wnd)
		}
		return
	}
	acked := ack.Sub(c.sndUna)
	flight := c.flightSize()
	c.sndUna = ack
	if c.sndNxt.LessThan(ack) {
		c.sndNxt = ack // after a go-back-N retransmission
	}
	// Free acknowledged data; the SYN and FIN occupy sequence space but
	// not buffer space.
	if d := min(ack.Sub(c.sndBufSeq), c.sndBuf.Len()); d > 0 {
		c.sndBuf.Discard(d)
		c.sndBufSeq = c.sndBufSeq.Add(d)
		c.changed()
	}
	c.sampleRTT(ack)
	c.backoff = 0
	c.updateWindow(h, wnd)
	c.congestionOnAck(acked, flight)
	c.dupAcks = 0
	// RFC 6298 section 5.2 and 5.3: stop the timer when everything is
	// acknowledged, otherwise restart it.
	if c.sndUna == c.sndMax {
		c.rexmt.Stop()
	} else {
		c.rexmt.Set(c.host.Now() + c.rto)
	}
}

// updateWindow is the window update rule of RFC 9293 section 3.10.7.4: take
// the window from the newest segment, judged by (SEG.SEQ, SEG.ACK).
func (c *Conn) updateWindow(h *Header, wnd int) {
	if c.sndWl1.LessThan(h.Seq) || (c.sndWl1 == h.Seq && c.sndWl2.LessEq(h.Ack)) {
		c.sndWnd = wnd
		c.sndWndMax = max(c.sndWndMax, wnd)
		c.sndWl1, c.sndWl2 = h.Seq, h.Ack
		if wnd > 0 {
			c.persist.Stop()
			c.persistBackoff = 0
		}
	}
}

// congestionOnAck grows or, in recovery, deflates the window for an ACK
// that acknowledged acked new bytes.
func (c *Conn) congestionOnAck(acked, flight int) {
	if c.inRecovery {
		if c.recover.LessEq(c.sndUna) {
			// Full acknowledgment (RFC 6582 section 3.2 step 3): deflate.
			c.cwnd = min(c.ssthresh, max(c.flightSize(), c.sndMSS)+c.sndMSS)
			c.inRecovery = false
			return
		}
		// Partial acknowledgment (step 4): retransmit the next hole and
		// deflate by the amount acknowledged, adding back one segment.
		c.retransmitFirst()
		c.cwnd -= acked
		if acked >= c.sndMSS {
			c.cwnd += c.sndMSS
		}
		c.cwnd = max(c.cwnd, c.sndMSS)
		return
	}
	if c.cwnd < c.ssthresh {
		// Slow start with appropriate byte counting, L = 2 SMSS (RFC 5681
		// section 3.1, RFC 3465).
		c.cwnd += min(acked, 2*c.sndMSS)
		return
	}
	// Congestion avoidance: one SMSS per window's worth of ACKed bytes
	// (RFC 5681 section 3.1, the byte-counting variant of equation 3).
	c.ackedBytes += acked
	if c.ackedBytes >= c.cwnd {
		c.ackedBytes -= c.cwnd
		c.cwnd += c.sndMSS
	}
}

// duplicateAck counts a duplicate ACK; the third starts fast retransmit
// (RFC 5681 section 3.2, RFC 6582 section 3.2 steps 1 and 2).
func (c *Conn) duplicateAck() {
	c.dupAcks++
	switch {
	case c.inRecovery:
		c.cwnd += c.sndMSS // inflate for the segment that left the network
	case c.dupAcks == 3:
		if c.sndUna.LessThan(c.recover) {
			return // still covered by the previous recovery (section 4.1)
		}
		c.ssthresh = max(c.flightSize()/2, 2*c.sndMSS)
		c.recover = c.sndMax
		c.inRecovery = true
		c.host.Stats().FastRetransmits++
		c.retransmitFirst()
		c.cwnd = c.ssthresh + 3*c.sndMSS
	}
}

// onRetransmitTimeout is the congestion response to a timeout (RFC 5681
// equation 4 and section 3.1; RFC 6582 section 4 on setting recover).
func (c *Conn) onRetransmitTimeout() {
	if c.backoff == 1 { // only the first timeout of a loss halves ssthresh
		c.ssthresh = max(c.flightSize()/2, 2*c.sndMSS)
	}
	c.cwnd = c.sndMSS
	c.ackedBytes = 0
	c.inRecovery = false
	c.recover = c.sndMax
	c.dupAcks = 0
}

// sampleRTT takes a round-trip sample if the timed segment is now
// acknowledged (RFC 6298 section 3, with Karn's rule: timing stops when
// anything is retransmitted).
func (c *Conn) sampleRTT(ack Seq) {
	if !c.timing || ack.LessThan(c.timedSeq) {
		return
	}
	c.timing = false
	r := c.host.Now() - c.timedAt
	if !c.haveRTT {
		// Section 2.2: the first measurement.
		c.srtt, c.rttvar, c.haveRTT = r, r/2, true
	} else {
		// Section 2.3, with alpha 1/8 and beta 1/4.
		d := c.srtt - r
		if d < 0 {
			d = -d
		}
		c.rttvar = (3*c.rttvar + d) / 4
		c.srtt = (7*c.srtt + r) / 8
	}
	const granularity = time.Millisecond
	c.rto = c.srtt + max(granularity, 4*c.rttvar)
	c.rto = min(max(c.rto, c.cfg.MinRTO), c.cfg.MaxRTO)
}

// RTT returns the smoothed round-trip time and the retransmission timeout.
func (c *Conn) RTT() (srtt, rto time.Duration) { return c.srtt, c.rto }

// CongestionWindow returns cwnd and ssthresh, for tests and diagnostics.
func (c *Conn) CongestionWindow() (cwnd, ssthresh int) { return c.cwnd, c.ssthresh }
