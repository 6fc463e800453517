// Package epoll implements epoll(7) instances and eventfd(2) counters,
// both kfile.Files.
//
// Readiness. An Instance watches open files, each with an interest (the
// events asked for and the user's data) keyed by descriptor number. Wait
// polls every watched file (kfile.File.Poll) and reports those ready
// for what is asked, EPOLLERR and EPOLLHUP always; when none is, it
// blocks on the files' events, the instance's own (an interest added or
// changed), the timeout and the caller's interruption. Interests are
// level-triggered, or edge-triggered with EPOLLET: reported when the
// file has signalled its event since the last report (new data, new
// room, a closed end), as Linux reports an edge on every wakeup of the
// file rather than only when readiness flips. EPOLLONESHOT disables an
// interest after one report until EPOLL_CTL_MOD.
//
// References. An interest holds a reference on its open file (Ctl takes
// the caller's), dropped when the interest is removed or replaced or the
// instance is released; so a watched file closed by its descriptor stays
// open, as on Linux, until removed from every instance.
//
// EventFD is a 64-bit counter: a write adds, a read takes all of it (one,
// in semaphore mode) and blocks while it is zero. A write that would
// overflow fails with EAGAIN; blocking writers are not supported.
//
// struct epoll_event is packed on x86-64 (12 bytes); the conversions are
// in event_unsafe.go.
package epoll
