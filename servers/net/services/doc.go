// Package services implements the small standard servers that nettap
// offers on a stack, so Linux tools have something to talk to:
//
//   - Echo (RFC 862) on TCP and UDP: every byte or datagram is sent back.
//   - Discard (RFC 863) on TCP: everything is read and thrown away.
//   - Checksum, a test service: it reads until the client half-closes, then
//     answers with the SHA-256 of what it read, in hex, and closes. It lets
//     an uploader verify that every byte arrived.
//   - HTTP/1.1, answering GET / with a short page and GET /bytes/N with N
//     bytes of a fixed pattern (Pattern), so a client can check them.
//
// Echo, Discard and Checksum are written against the stack's non-blocking
// socket API and run as callbacks on the event loop: no goroutines, and a
// connection costs only its buffers. The HTTP server is Go's net/http
// running over netconn, to show that ordinary blocking Go code runs on the
// stack unchanged.
package services
