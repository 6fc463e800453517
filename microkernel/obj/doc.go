// Package obj holds the kernel objects that capabilities name and native
// system calls act on: endpoints (synchronous call/reply message passing),
// notifications (a word of event bits), and memory objects (frames that can
// be mapped into several address spaces). Processes, the fourth kind, live
// in package proc.
//
// Endpoint. A call enqueues a Call and blocks its caller until a receiver
// replies or the endpoint dies. A receiver takes the oldest call (or, if a
// notification is bound and has bits, those bits), handles it, and replies
// with the call's token. The hand-off is a channel operation between
// goroutines, so the Go scheduler switches straight to the waiting receiver.
// An endpoint belongs to the process that created it; when that process
// dies the endpoint dies with it: queued and in-progress calls fail at once
// with EOWNERDEAD, later calls too, and its generation changes, so clients
// can tell a restarted server's endpoint from the dead one.
//
// Notification. Signal ORs bits into the word and wakes waiters; Wait
// returns and clears the word, blocking while it is zero. Bound to an
// endpoint, a notification's bits are also delivered to the endpoint's
// receivers, so one receive loop serves calls and events.
//
// Memory. A memory object owns its frames (zeroed at creation). Mappings
// and capabilities hold references; the frames are freed when neither is
// left.
//
// Locking: each object has its own mutex; no object lock is held while
// blocking or while calling into another object, except Notification →
// bound Endpoint wake-ups, which only signal an event.
package obj
