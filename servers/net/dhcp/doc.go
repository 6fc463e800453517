// Package dhcp is a DHCP client (RFC 2131) for the stack, with the message
// format and the options of RFC 2132 it needs.
//
// # Messages
//
// A DHCP message is a BOOTP packet (RFC 2131 section 2, figure 1) whose
// options field starts with the magic cookie 99.130.83.99 and holds
// type-length-value options. Parse checks the fixed part, the cookie and
// that every option fits; Marshal builds one. Option overloading (option
// 52, putting options in the sname and file fields) is not supported:
// replies that use it are read without the overloaded options.
//
// # The client
//
// Client runs the state machine of RFC 2131 section 4.4 (figure 5) on the
// stack's event loop, using a UDP socket on port 68 and the stack's timers:
//
//	INIT ──DISCOVER──▶ SELECTING ──OFFER/REQUEST──▶ REQUESTING ──ACK──▶ BOUND
//	  ▲                                               │NAK               │T1
//	  └──────────────── lease expired ◀── REBINDING ◀─T2── RENEWING ◀────┘
//
// While it has no address the stack sends from 0.0.0.0 to 255.255.255.255
// (section 4.1), and the client sets the BROADCAST flag so that servers
// broadcast their replies (section 4.1, "flags"). On ACK the client
// configures the stack's address, prefix and default router and reports
// the lease. Requests are retransmitted with the randomized exponential
// backoff of section 4.1 (4, 8, 16, 32, 64 seconds, each ±1 s); in RENEWING
// and REBINDING it retries at half the remaining time, but not more often
// than every 60 seconds (section 4.4.5). A lease that runs out removes the
// address and starts over. The client does not probe the offered address
// with ARP before using it (section 4.4.1 says SHOULD); see docs/net.md.
package dhcp
