// Package sched schedules the kernel's own threads: the threads the Go
// runtime creates with clone for its Ms, plus an idle thread.
//
// The Go runtime multiplexes goroutines onto a few OS threads; in Valence the
// kernel is that OS. A thread here is a saved register frame, its x87/SSE
// state and its FS base (which holds Go's TLS). Scheduling is round robin
// with a time slice (Quantum) enforced by the timer interrupt, so a thread
// that spins without making system calls cannot starve others (the runtime's
// sysmon thread, above all, must run to preempt a spinning goroutine).
//
// Everything here runs in trap context: interrupts are disabled, the caller
// is the trap handler, and the current thread's state lives in the trap frame
// on the trap stack. Switching threads means copying that frame (and FPU
// state) into the current Thread and copying the next thread's saved state
// into the frame; the trap exit path then "returns" into the new thread. A
// thread blocked in a system call is saved the same way, with the result to
// return in its saved RAX when it is woken.
//
// Invariants:
//   - threads[0] is the idle thread; it is never on the run queue, runs
//     only when the queue is empty, and is exempt from the state rules
//     below (its state stays Runnable).
//   - exactly one thread other than idle is Running (cur), unless idle
//     runs; Runnable threads other than idle are on the run
//     queue exactly once; Blocked threads are on no queue.
//   - no field holds a Go pointer: global state is indices and integers, so
//     no write barrier can ever be needed in trap context.
//   - callers hold interrupts disabled (single CPU), which is the only lock.
package sched
