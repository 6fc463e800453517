// Package tcp implements TCP as specified by RFC 9293: the segment format,
// the connection state machine, and the algorithms around it — window
// scaling (RFC 7323), the retransmission timer (RFC 6298), congestion
// control with fast retransmit and NewReno recovery (RFC 5681, RFC 6582),
// the defences against blind resets and SYNs (RFC 5961), zero-window
// probing and keep-alives (RFC 1122).
//
// # Shape
//
// A Conn is a transmission control block: the variables of RFC 9293
// section 3.3.1 plus a send ring and a receive ring. It never does I/O and
// never blocks. The stack that owns it implements Host, and everything
// flows through three kinds of calls, all on the stack's event loop:
//
//   - HandleSegment: a segment arrived (input.go follows "SEGMENT ARRIVES",
//     section 3.10.7, step by step: sequence check, RST, SYN, ACK, text,
//     FIN);
//   - a timer fired (timers.go: retransmission, persist, delayed ACK,
//     keep-alive, TIME-WAIT);
//   - the application called Read, Write, CloseWrite, Close or Abort.
//
// Each may call Host.Output to send segments (output.go decides what the
// windows, Nagle's rule and silly-window avoidance allow) and
// Host.Changed to say readiness may have changed. A Listener holds
// connections in SYN-RECEIVED and those waiting for Accept.
//
// # Sequence space and buffers
//
// The send ring holds bytes from SND.UNA (once the SYN is acknowledged) to
// the end of what the application wrote; sndBufSeq is the sequence number
// of its first byte, and the FIN, when queued, occupies the number after
// its last. Retransmission re-reads the ring, so nothing is copied per
// segment beyond the one copy into the outgoing frame. The receive ring
// holds in-order data not yet read, followed — in the space the advertised
// window covers — by out-of-order data at its final position, with a list
// of spans saying which parts are filled; a segment that fills a gap just
// lets RCV.NXT jump. The window we advertise is the free space, grown only
// in steps of at least one MSS or half the buffer (receiver silly-window
// avoidance) and never shrunk (section 3.8.6.2.2). A connection entering
// TIME-WAIT gives its send ring back (everything in it was acknowledged)
// and its receive ring too unless its owner still has data to read
// (releaseBuffers): it lives 2 MSL, and a program that opens and closes
// connections quickly would otherwise keep half a megabyte in each.
//
// # Loss recovery
//
// One segment at a time is timed for the round-trip estimate (Karn's rule:
// never a retransmitted one). On a timeout the timer backs off, the
// congestion window drops to one segment and sending restarts from
// SND.UNA (go-back-N: without SACK the sender cannot know which later
// segments arrived; the receiver's out-of-order data makes the repeated
// ones cheap). Three duplicate ACKs start fast retransmit and NewReno
// recovery, which repairs one hole per partial acknowledgment without
// waiting for the timer. Options not implemented: SACK, timestamps, ECN,
// TCP Fast Open, urgent data (the URG bit is ignored), path MTU discovery,
// SYN cookies.
//
// # Choices where the RFCs leave room
//
// The minimum RTO is 200 ms rather than RFC 6298's one second, as Linux
// does, so that losses on a LAN are repaired quickly. A zero-window probe
// and a keep-alive probe are both an empty segment carrying SND.UNA-1 (or
// SND.NXT-1): outside the receiver's window, so it must answer with an
// ACK carrying its window, and no sequence space is spent. A reset in
// TIME-WAIT is ignored (RFC 1337), and a SYN above the old RCV.NXT may
// reopen a connection in TIME-WAIT (section 3.10.7.4). ACKs answering
// unacceptable segments without data are limited to one per 500 ms per
// connection, which stops two confused ends from trading ACKs forever
// (RFC 5961 section 7). A window that shuts on data already sent hands the
// retransmission timer over to the persist timer: that is not loss, and
// must not end the connection. Closing a connection with unread data
// sends a reset (RFC 1122 section 4.2.2.13), as does data arriving after
// the application closed.
package tcp
