// Package netd serves the socket protocol (servers/net/sockproto) on a
// stack (servers/net/stack): it is the core of the netd program, which the
// kernel's Linux front end calls when a program makes a socket call on an
// AF_INET socket.
//
// # One loop
//
// The stack is not safe for concurrent use and never blocks, so the
// server owns no goroutine of its own and takes no lock around it: every
// request, whichever rpc goroutine received it, is handed to the one
// event loop that also takes frames and fires timers (the Loop interface:
// stack.Loop in the OS, a simulation driver in tests), runs there to
// completion, and its answer goes back to the waiting handler. All of the
// server's own state (clients, sockets, ports held by bind) is owned by
// that loop too. What the loop runs is non-blocking: a call that cannot
// proceed answers EAGAIN, and a TCP connect EINPROGRESS.
//
// # Readiness
//
// Each client (a badge: the kernel, for all its processes) has a
// readiness record: a counter seq, and for each socket whose readiness
// changed, the seq of its latest change. Two things record a change: a
// notification from the stack (data, a connection, a FIN, an error; each
// one counts, even at the same level, since it is an edge to an
// edge-triggered epoll), and a call of the client's own whose result
// changes the socket's poll(2) bits (a read that drains the data). Wait
// answers with the sockets changed after the Seq the client has taken
// in, oldest first, each with its current events, and the seq of the
// last one listed; if there are none it is held outside the loop on the
// client's wake channel, which every change closes. A newer Wait of the
// same client ends a held one with an empty reply, so at most one is held
// per client. Events are computed as Linux's tcp_poll and udp_poll do:
// a TCP socket never connected is EPOLLOUT|EPOLLHUP; a connecting one
// has no events; the peer's FIN or shutdown(SHUT_RD) is EPOLLIN|
// EPOLLRDHUP; both directions shut, or a closed connection, EPOLLHUP;
// a pending error EPOLLERR, until SO_ERROR or a call reports it.
//
// # Sockets
//
// A sock is what Linux keeps per socket and the stack does not: the
// stack object behind it (none until a TCP socket listens or connects or
// a UDP socket is bound), the bound address, the pending error, the
// shutdown directions and the options. TCP ports are held from bind(2),
// so that a second bind fails with EADDRINUSE as in Linux, although the
// stack claims them only at listen or connect. Errors of the stack map to
// errnos (errors.go); a connection's error is reported once (SO_ERROR, or
// the next recv or send), after which recv reads the end of the stream
// and send fails with EPIPE, as in Linux. A raw ICMP socket (raw.go) has
// its stack socket from socket(2) on, since it receives from then on;
// SocketRequest.NetRaw, which the kernel sets from CAP_NET_RAW, admits
// it.
//
// # Status
//
// Status (status.go) lists every client's sockets, then the TCP
// connections the stack still has that no socket holds, with Linux's
// state numbers, queues and drops; snmp.go maps the stack's counters to
// Linux's MIBs for /proc/net/snmp and /proc/net/netstat.
//
// # Limits
//
// Per client: MaxSocketsPerClient sockets (EMFILE), MaxBufferBytesPerClient
// bytes of socket buffers (ENOMEM; a raw socket counts its receive
// queue, stack.RawQueueBytes), MaxBuffers shared buffers (ENOMEM);
// for all clients: MaxClients (ENFILE), MaxSockets (ENFILE),
// MaxSharedBytes (ENOMEM). An accept at a limit leaves the connection
// queued. Forget closes everything a client holds, as close(2) would.
package netd
