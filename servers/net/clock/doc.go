// Package clock is the stack's notion of time: a Clock that reads a
// monotonic time, a Fake clock that tests move by hand, and a Queue of
// timers that the event loop runs.
//
// The stack never sleeps and never starts a goroutine to wait. Every
// protocol timer (TCP retransmission, ARP retry, DHCP renewal, ...) is a
// Timer in one Queue owned by the stack. The loop that drives the stack asks
// the queue for its next deadline, waits for that or for a frame or a
// socket request, and then calls Run with the current time; Run fires every
// timer that is due, in deadline order. Ties are broken by the order in
// which timers were armed, so a run is a pure function of the inputs: with a
// Fake clock the deterministic tests replay exactly.
//
// Times are time.Duration values since the clock's epoch rather than
// time.Time, which keeps arithmetic simple and makes the fake clock's zero a
// natural start.
package clock
