package kfile

import (
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

// File is an open object: a regular file, directory, device, pipe end,
// eventfd or epoll instance.
type File interface {
	// Read and Write transfer at off for positional files (Seekable
	// reports whether the offset is used); blocking files may block,
	// watching c for interruption unless nonblock. c is nil when the
	// kernel itself reads (loading an executable): nothing can then
	// interrupt the call.
	Read(c Caller, b []byte, off int64, nonblock bool) (int, errno.Errno)
	Write(c Caller, b []byte, off int64, nonblock bool) (int, errno.Errno)
	Seekable() bool
	Stat() linux.Stat
	// Poll returns the current readiness (EPOLLIN, EPOLLOUT, EPOLLHUP...)
	// and an event signalled when it may have changed (nil: never).
	Poll() (uint32, *Event)
	Release()
}

// Caller is the thread a file call is made for, as far as files need
// it: to block interruptibly, to be signalled, and to be told apart. The
// kernel's proc.Thread implements it. The interface keeps the files out of
// package proc (which imports them), and lets hosted tests drive files
// with a fake thread.
type Caller interface {
	// PID is the caller's process ID (the sender of the signals a file
	// raises, the terminal's foreground process, the client a file
	// server is told about).
	PID() int
	// CanBlock prepares the caller to block: it clears stale interrupts
	// and reports false if the call must not block at all (a signal is
	// already deliverable, or the process is exiting), in which case the
	// call fails with EINTR. After CanBlock, any new signal or kill is
	// sent on Interrupted.
	CanBlock() bool
	// Interrupted is the channel a signal or kill sends on.
	Interrupted() <-chan struct{}
	// Raise sends sig to the calling thread from its own process
	// (SI_USER), as a write to a pipe without readers sends SIGPIPE.
	Raise(sig linux.Signal)
	// Exiting reports whether the caller's process is being killed:
	// an IPC call to a file server, which a signal does not interrupt,
	// is abandoned only then.
	Exiting() bool
	// SetInCall marks the caller as waiting in an IPC call (on) or done
	// with it, so that a signal for the whole process goes to another of
	// its threads meanwhile.
	SetInCall(on bool)
}

// WaitUntil is the shape of every blocking read: try, and if attempt says
// it is not done, sleep until ev is signalled and try again. The wait
// channel is taken before each attempt, so a signal between the attempt
// and the sleep is not lost. A non-blocking caller gets EAGAIN instead of
// sleeping; a signal or the process's death ends the wait with EINTR.
func WaitUntil(c Caller, ev *Event, nonblock bool, attempt func() (n int, e errno.Errno, done bool)) (int, errno.Errno) {
	for {
		wait := ev.Wait()
		if n, e, done := attempt(); done {
			return n, e
		}
		if nonblock {
			return 0, errno.EAGAIN
		}
		if !c.CanBlock() {
			return 0, errno.EINTR
		}
		select {
		case <-wait:
		case <-c.Interrupted():
			return 0, errno.EINTR
		}
	}
}
