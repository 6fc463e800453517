// Package unixsock implements AF_UNIX sockets (unix(7)) in the kernel:
// SOCK_STREAM, SOCK_SEQPACKET and SOCK_DGRAM, socketpair(2), and the
// passing of descriptors and credentials between processes.
//
// # Model
//
// A Socket is a kfile.File, so read, write, close, fcntl, poll and
// epoll work on it as on any file; the socket calls are its other
// methods, which package proc's socket system calls reach for a socket
// of this family. A Domain holds the names: abstract names (a leading
// NUL byte) in a map, and pathnames by the identity of their socket node
// (Key: the device and inode that stat reports). The node itself is a
// file of whatever filesystem holds the path, made by bind through
// kfile.Mknoder (the file protocol's Mknod for a file server); proc
// makes it and looks it up, so this package knows nothing of paths. A
// node whose socket is gone (closed, or from before a reboot) refuses
// connections (ECONNREFUSED), and unlinking the node removes the name
// but not the socket, as on Linux.
//
// Data moves as messages: each send queues a message (its bytes, the
// descriptions it passes, the sender's credentials and name) on the
// receiver's queue. A datagram or seqpacket read takes one message
// whole (cut to the buffer: MSG_TRUNC); a stream read joins consecutive
// messages, but stops before one that carries descriptors, so that
// descriptors arrive with the bytes they were sent with.
//
// A connect to a listener makes the server's end at once and puts it on
// the listener's pending list (Linux's backlog); the connecting side is
// connected from then on and may write before accept. A full list
// (more than the backlog) makes connect wait, or fail with EAGAIN when
// nonblocking.
//
// # Memory
//
// Every queued message is charged to the sender, as Linux charges
// sk_wmem_alloc: its bytes plus msgOverhead, within the sender's
// SO_SNDBUF (at most 416 KiB), so a flood of empty datagrams is bounded
// as bytes are. The same bytes count in the sending process's kernel
// charge (Owner.Bytes, which the out-of-memory killer reads) until they
// are read or dropped, and once a process's sockets hold Quota in all,
// or the kernel heap cannot grow, each of them may hold only
// minBuffered: data still moves, a page at a time. A datagram receiver
// queues at most maxDgramQueue messages from senders it is not
// connected to.
//
// # Descriptors in flight
//
// An SCM_RIGHTS message holds references to open file descriptions
// until it is read (the receiver installs them) or dropped (the
// receiving socket closes; a read that asks for no ancillary data, or
// has too little room for it, closes them, MSG_CTRUNC). Two bounds:
//
//   - A process may have at most Owner.MaxInFlight descriptions in
//     flight from its sockets (proc gives RLIMIT_NOFILE, as Linux's
//     too_many_unix_fds): ETOOMANYREFS beyond.
//   - No reference cycle can form. A socket whose last descriptor is in
//     a message on its own queue (sent over itself), or two sockets each
//     in the other's queue, would never be released: Linux collects such
//     cycles with a garbage collector. Here they are refused instead,
//     by keeping the invariant that a socket in flight holds no socket
//     in its queue (nor in the queues of the connections pending on it):
//     a socket may be passed only if its queues hold no sockets and it
//     is not the receiver (or the receiver's listener), and a receiver
//     in flight takes no sockets. Both refusals are ETOOMANYREFS, which
//     Linux gives for passing sockets nested too deep. Any cycle would
//     need a socket in flight that holds a socket, so none forms; the
//     price is that sockets nest one deep, where Linux allows four.
//     Other files that hold descriptions (an epoll instance watching a
//     socket) are not followed: such a cycle stays bounded by the
//     in-flight limit, and is reclaimed by nothing.
//
// # Locking
//
// Domain.mu guards every socket's state and the names: a connect or a
// send touches two sockets, a close may release others, and one lock
// leaves no order to get wrong. Work under it is bounded (copying one
// message). Events are signalled, and descriptions dropped (which may
// release another socket, taking the lock), with it released.
package unixsock
