// Package netconn gives goroutines blocking, net.Conn-shaped access to
// sockets on a stack.Loop.
//
// The stack itself never blocks: a socket call that cannot proceed returns
// socket.ErrWouldBlock. This package supplies the blocking behaviour from
// the outside, the way a libc does over non-blocking system calls with
// poll. Each Conn registers a readiness callback that runs on the event
// loop and drops a token into a one-slot channel per direction; a Read or
// Write that would block waits on that channel (or a deadline) and tries
// again. Because tokens persist until consumed, a notification that
// arrives between the failed attempt and the wait is never lost.
//
// Conn satisfies net.Conn and Listener satisfies net.Listener, so ordinary
// Go code — net/http's server, io.Copy — runs on the stack unchanged. This
// is also the shape the socket IPC protocol will give to programs inside
// Valence, with the IPC endpoint in place of the channels.
package netconn
