// Package memtransport is an in-memory endpoint for tests: a Server end
// that rpc.Server.Serve receives from and any number of Client ends that
// rpc.Call calls through, connected by channels, with the kernel
// endpoint's semantics where tests can observe them:
//
//   - a call is synchronous: Call returns when the server replies;
//   - the kernel copies messages: the server gets a copy of the header and
//     the first DataLen bytes, and the caller gets a copy of the reply,
//     so neither side can see the other's buffers change later;
//   - the server sees the badge of the client end the call came through
//     (handles are copied as they are; there are no handle tables to
//     move them between);
//   - messages over ipc.MaxData or ipc.MaxHandles fail with EMSGSIZE;
//   - a caller whose context ends stops waiting at once, and the server's
//     later Reply to it fails with EOWNERDEAD, as the kernel reports a
//     caller that died awaiting its reply;
//   - Server.Close is the death of the server process: blocked and future
//     calls fail with syscall.EOWNERDEAD, the error user space sees when
//     the server of an endpoint dies;
//   - Server.Notify signals the notification bound to the endpoint: bits
//     accumulate until a Receive returns them as one message flagged
//     ipc.MsgNotification, with the bits in Label.
//
// A call from one of many goroutines at once is received by one of the
// goroutines blocked in Receive; there is no ordering between callers.
//
// # Synchronization
//
// A call is handed over on an unbuffered channel, so a caller blocks
// until a receiver takes it. From then until the reply, the caller's
// req and rep messages are shared with the server side; the call's mutex
// guards them, and the gone flag, set under it when the caller stops
// waiting, tells the server not to touch them again. The server end's
// mutex guards the table of calls awaiting replies and the pending
// notification bits.
package memtransport
