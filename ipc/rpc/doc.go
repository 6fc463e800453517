// Package rpc is the typed layer of Valence IPC: protocols, the client's
// Call and the server's dispatch loop, over any transport that can carry
// an ipc.Message each way.
//
// # Protocols
//
// A protocol is a Go package (see valence.dev/ipc/rpc/echoproto for the
// model) that declares, once, each of its methods as a Method value:
//
//	var Read = rpc.Method[ReadRequest, ReadReply]{Label: 3, Name: "Read"}
//
// The label is the method's number on the wire (Header.Label); the type
// parameters are its request and reply types. NewProtocol collects the
// methods, rejects duplicate labels and names, and has the codec check
// every type, so a protocol that cannot work fails when its package
// initialises. Both ends then derive everything from the same values,
// as in Hubris's IDL: the client calls rpc.Call(ctx, t, Read, req) and
// gets a ReadReply; the server registers rpc.Handle(s, Read, f) where f
// must take a ReadRequest and return a ReadReply. The compiler checks
// both against the declaration, and nobody packs bytes: valence.dev/ipc/
// codec encodes the types.
//
// # The wire
//
// A request is a message whose Label is the method's label and whose
// data and handles are the codec's encoding of the request value. The
// reply to it carries Status 0 and the encoding of the reply value, or a
// non-zero Status and the encoding of an Error:
//
//	Status  the error code, a Linux errno number (never 0)
//	Data    Error{Code int32, Msg string} in the codec's format
//
// The server answers on its own for the failures that are not the
// handler's: ENOSYS (ErrUnknownMethod) for a label the protocol lacks or
// the server does not implement, EBADMSG (ErrBadRequest) for a request
// that does not decode, EMSGSIZE for a reply too big to send. A
// handler's error becomes an Error with the code of the first *Error or
// syscall.Errno in its chain, else ETIMEDOUT or ECANCELED for context
// errors, else EIO; its message is the error's whole text, cut to 1 KiB.
//
// Two kinds of failure stay apart, in the spirit of Hubris's split
// between recoverable errors and faults. An Error is the server's
// considered answer; the server lives on. An error from the Transport
// (above all EOWNERDEAD, the server died) is about the connection, and
// Call returns it unchanged under its context, so that libos can
// errors.Is it, reconnect and retry. An Error never matches EOWNERDEAD,
// and a server never sends that code.
//
// # Transports
//
// Transport and ServerTransport are the two halves of an endpoint. In
// the OS, libos implements them with the kernel's endpoint calls; in
// tests, memtransport implements them in memory with the same
// semantics. The rpc layer does nothing else with messages, so the same
// protocol, client and server code runs over both.
//
// # Servers
//
// Server.Serve is the receive loop of an event-driven server: it
// receives a call, dispatches on the label, replies, and goes round
// again. Notifications bound to the endpoint (IRQs, timers) arrive in
// the same loop and go to Server.OnNotify. Nothing a client sends can
// stop the loop: malformed requests, unknown labels and callers that die
// before their reply are each answered or dropped, and the loop goes on.
// A server that wants concurrency runs Serve in several goroutines on
// the same transport.
package rpc
