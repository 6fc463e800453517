// Package link defines what the stack needs from a network device, and
// provides an in-memory wire for tests.
//
// A link moves Ethernet frames (destination MAC first, no FCS). The stack
// writes with Endpoint.WriteFrame, which must not keep the slice after it
// returns, so the stack can build every frame in one reusable buffer.
// Frames travel the other way by whatever means suits the device: a real
// device (a TAP, later the NIC protocol inside Valence) implements Device,
// whose blocking ReadFrame a reader goroutine calls outside the stack, and
// the in-memory Wire calls a receiver function when the simulation tells it
// to.
//
// # The wire
//
// Wire connects two ports as a cable would, but misbehaves on demand: each
// frame can be lost, duplicated, delayed by a fixed latency plus jitter, or
// held back so that later frames overtake it, all decided by a seeded random
// source, and a Drop hook lets a test remove one particular frame. A rate
// and a queue limit turn it into a bottleneck link with drop-tail queueing,
// which is what makes congestion control have something to do. The wire
// does not deliver anything by itself: frames wait in a queue ordered by
// arrival time until Deliver is called with a time, which the simulator
// does from its fake clock. WriteFrame therefore never calls back into a
// stack, so a stack is never re-entered while it is sending.
package link
