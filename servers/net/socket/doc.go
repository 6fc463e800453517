// Package socket is the vocabulary every kind of socket in the stack shares:
// readiness events, the way a socket tells its owner that they changed, and
// the errors that socket calls return.
//
// Socket calls never block. A call that cannot make progress returns
// ErrWouldBlock, and the caller waits for a readiness notification before it
// tries again, as with non-blocking sockets and epoll on Linux. That is what
// lets one event loop serve every connection, and what the IPC socket
// protocol will expose: the server forwards a notification to the client
// that owns the socket, and the client library turns it into blocking
// behaviour for the program if the program wants that.
//
// Notifications are level-style hints, not a count of events: the owner is
// told "something changed, here is the current set", possibly more than once
// for the same state, and re-checks by calling Events. The stack delivers
// them only between events (after a frame, a timer or a socket call has been
// fully processed), so a callback may call back into the socket safely.
package socket
