// Package stack is the centre of the TCP/IP stack: one Stack per network
// interface owns the protocol state of every layer, and an event loop
// drives it.
//
// # Layers
//
// Frames come in through HandleFrame and go through the layers as plain
// function calls: Ethernet (package ethernet) demultiplexes ARP and IPv4;
// ARP requests are answered and the neighbour cache (package arp) learns;
// IPv4 packets (package ipv4) are checked, reassembled if fragmented, and
// handed to ICMP, UDP or TCP; TCP segments go to the connection named by
// their four-tuple, or to a listener, or are answered with a reset. Going
// out, every protocol writes its header into one scratch buffer behind
// room for the IPv4 and Ethernet headers; sendIPv4 adds the IPv4 header,
// fragments if the datagram exceeds the MTU, and resolves the next hop
// (the destination on the local subnet, else the gateway) through the ARP
// cache, which queues the packet if the answer is not known yet.
//
// # One loop, no blocking
//
// A Stack is not safe for concurrent use and never blocks. Three kinds of
// events reach it: a frame (HandleFrame), time passing (RunTimers fires
// every due timer in the stack's clock.Queue: TCP retransmissions, ARP
// retries, reassembly expiry, DHCP renewals), and socket calls. The Loop
// type waits for the next of these on a real device and clock; the sim
// package does the same with an in-memory wire and a fake clock, which is
// what makes the tests deterministic. No goroutine exists per connection,
// and none is needed: a connection is data plus timers.
//
// # Sockets
//
// The socket API is non-blocking, in the style of epoll:
//
//	ListenTCP, DialTCP, DialTCPFrom        -> *tcp.Listener, *tcp.Conn
//	Listener.Accept, Conn.Read/Write/CloseWrite/CloseRead/Close/Abort
//	ListenUDP -> *UDPSocket: SendTo, RecvFrom, Connect, Close
//	OpenPing  -> *PingSocket: ICMP echo requests and their replies
//	OpenRaw   -> *RawSocket: every ICMP message that reaches the host,
//	             IP header included; messages sent as given (raw.go)
//
// Every socket has SetNotify(func(socket.Events)) and Events(). A call that
// cannot proceed returns socket.ErrWouldBlock; the owner waits for a
// notification, which the stack delivers after the event that caused it
// has been processed completely (Flush), never from inside protocol code.
// This is the interface the IPC socket protocol will expose from netd;
// package netconn shows how blocking net.Conn semantics sit on top.
//
// # Drops are counted
//
// Nothing that arrives can crash the stack: every decoder checks lengths
// before it reads, and every malformed or unwanted frame is counted in
// Stats under the reason it was dropped. FuzzFrame feeds arbitrary frame
// sequences to a stack with services running to hold that line.
//
// # Local delivery
//
// A datagram to one of the stack's own addresses (the interface's, or any
// in 127.0.0.0/8) never reaches the link: it is queued and handed back to
// the IPv4 input after the event that sent it, in Flush (loopback.go), so
// connections to the host itself work, from before DHCP has given an
// address too. 127/8 arriving from the link is dropped.
//
// # Randomness
//
// Initial sequence numbers (RFC 6528), ephemeral ports (RFC 6056), IP
// identifiers and DHCP transaction ids all come from one ChaCha8
// generator keyed with a 256-bit secret drawn at New from Config.Rand:
// crypto/rand (getrandom(2) in Valence) unless a test injects
// SeededRand for a deterministic run (random.go).
//
// # Not implemented
//
// IPv6, IP forwarding, multicast and IGMP, IP options (accepted and
// ignored), path MTU discovery, broadcasts looped back to the host's own
// sockets, and raw sockets of protocols other than ICMP (and IP_HDRINCL).
package stack
