// Package pipe implements pipe(2): a buffer in the kernel heap shared by
// a read end and a write end, each a kfile.File.
//
// A read returns what the buffer holds, blocking (unless nonblocking)
// while it is empty and a writer remains; with no writer left it is end
// of file. A write appends as much as fits and blocks for room until all
// is written; with no reader left it raises SIGPIPE for the writer and
// fails with EPIPE, or returns what it had written. A signal ends a
// blocked read or write (EINTR, or the partial count).
//
// Memory. The buffer holds up to Capacity bytes (Linux's 64 KiB), and its
// bytes are charged to the process that created the pipe (the counter
// New is given, which the out-of-memory killer reads) until they are read
// or the pipe goes. When the creator's pipes hold Quota in all, or the
// kernel heap cannot grow (the canGrow function, mm.KernelCanGrow in the
// kernel), the buffer holds at most Min, a page: a process cannot spend
// the kernel's memory on pipes nobody reads, while its readers still get
// data.
//
// Splice (splice.go). ReadTo offers the front of the buffer to a
// destination and removes only what it took; WriteFrom asks a source for
// no more than the room there is. So splice(2) between a pipe and a
// socket loses nothing when the other side is short, as Linux's page
// moving does not.
//
// Locking. pipe.mu guards the buffer, the charge and the counts of ends;
// the event is signalled after it is released, at every change (data,
// room, an end closed), and wakes both readers and writers. readMu and
// writeMu, taken before mu, order consumers and producers: a splice holds
// one across its whole step (look, transfer, commit), Read and Write for
// each of theirs.
package pipe
