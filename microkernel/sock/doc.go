// Package sock is the kernel's side of AF_INET sockets: the client of
// the network server (netd, servers/net/netd) over the socket protocol
// (servers/net/sockproto), as package fsclient is of file servers.
//
// # Model
//
// A Net is the connection to one netd; a Socket is one of its sockets,
// held by an open file description (it is a kfile.File), so read,
// write, close and epoll work on it as on any file, and the socket calls
// are its other methods. The server never blocks: every call is
// non-blocking there, and a blocking call waits here, on the socket's
// kfile.Event, for the readiness the server reports, then tries again
// (kfile.WaitUntil takes the wait channel before each attempt, so no
// report between an attempt and the sleep is lost).
//
// Readiness comes from the poller, one goroutine per Net that keeps one
// Wait call outstanding: each answer lists the sockets whose readiness
// changed (level style: their current events), which the poller stores
// and signals. epoll reads it through Poll; edge-triggered watchers
// compare the event's sequence number, which every report advances.
// Reports for a socket whose creation has not returned yet are kept
// until it has (a bounded map), so an early change is not lost.
//
// # Failure
//
// When netd dies (the transport says EOWNERDEAD), the Net is dead: every
// socket reports EPOLLERR|EPOLLHUP, calls on it fail with ECONNRESET,
// and new sockets of that Net with ENETDOWN. A restarted netd is a new
// Net; sockets of the old one stay dead, as connections do on Linux when
// the link they used went away.
//
// # Addresses
//
// addr.go converts between the program's sockaddr_in/sockaddr_in6 and
// the protocol's Addr, and reads struct msghdr; they parse untrusted
// bytes, so they are fuzzed (FuzzDecodeAddr).
//
// # Raw sockets
//
// A SOCK_RAW socket is a datagram socket here; Open tells the server
// whether the program has CAP_NET_RAW (sockproto.SocketRequest.NetRaw),
// which the server requires for one.
//
// # Status and interfaces
//
// Status reads all of the server's status pages (its interfaces,
// sockets and counters) for /proc/net's socket tables, Summary only the
// first (no socket list) for the rest; ifreq.go answers the interface
// ioctls of netdevice(7) (SIOCGIFFLAGS, SIOCGIFMTU, ...) from its
// interfaces, an interface's index being its place in the server's list
// from 1 (lo, then the NIC). The struct ifreq is the program's bytes, so
// IfReq is fuzzed (FuzzIfReq).
//
// # Data
//
// Up to sockproto.MaxInline bytes travel in the message; more go through
// the server's shared buffers (buf.go): a Net attaches up to
// kernelBuffers of kernelBufferLen bytes, and a call takes one for one
// request only, so a thread blocked on a full or empty socket holds
// none. A datagram is whole or refused (EMSGSIZE beyond a buffer).
package sock
