// Package echoproto is a small protocol used to test the rpc layer, and
// the model for writing a protocol package.
//
// # Writing a protocol package
//
// A protocol package is the one place a protocol is written down. Client
// and server both import it, and everything either needs comes from its
// declarations, so they cannot drift apart. It holds, in this order:
//
//  1. The request and reply types: plain Go structs (or any type the
//     codec carries: see valence.dev/ipc/codec). A handle to pass goes in
//     a field of type ipc.Handle; the codec moves it into the message
//     header where the kernel transfers it. Prefer a struct even for one
//     value: a field can be added later without changing the method.
//  2. One rpc.Method variable per method, giving its label, its name and,
//     as type parameters, its request and reply types. Labels are the
//     wire identity: never reuse or renumber one; retire it instead.
//  3. The Protocol, listing the methods. rpc.NewProtocol runs at package
//     initialisation and checks every type with the codec, so a field
//     the codec cannot carry stops the program at start-up, in the
//     protocol package, rather than failing the first call.
//  4. The protocol's own errors, as *rpc.Error values with errno codes,
//     which clients test with errors.Is.
//  5. Optionally, typed conveniences derived from the methods: a Client
//     whose methods wrap rpc.Call, and a Handler interface with a
//     Register function that binds an implementation with rpc.Handle.
//     They add no information, only names; the compiler checks them
//     against the method variables.
//
// No code in a protocol package, its clients or its servers packs bytes:
// the codec does, from the types.
//
// # The echo protocol
//
//	Echo        string -> string       returns its argument
//	Add         AddRequest -> int64    A + B, or ErrOverflow
//	PassHandle  HandleRequest -> HandleReply
//	                                   carries a handle each way
//	Stat        StatRequest -> Stats   a reply with nested slices
package echoproto
