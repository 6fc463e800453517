// Package sim runs stacks deterministically: two (or more) stacks joined by
// an in-memory link.Wire, all reading one clock.Fake.
//
// Nothing happens on its own. Step finds the earliest pending event — a
// frame due to arrive on the wire, or a timer due in a stack — moves the
// fake clock to it, and runs it: frames first, then each stack's timers in
// a fixed order. Because the wire's faults come from a seeded source and
// the stacks' own randomness from their seeds, a run is a pure function of
// its configuration: a test that fails replays identically, and simulated
// minutes take milliseconds.
//
// Applications in these tests are event-driven too: they register
// readiness callbacks on sockets and act when called, exactly as a server
// on the real event loop would.
package sim
