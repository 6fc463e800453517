package main

import (
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"valence.dev/ipc"
)

// The child: a pool of hostile argument values, and worker threads that
// draw a system call and arguments at random and make it. Every call's
// result is ignored: the point is what the kernel does, and the
// supervisor judges that (the kernel still up, memory back).

// arena is the memory the fuzzer owns and hands to the kernel: a buffer,
// NUL-terminated strings and arrays of string pointers, all in one
// mapping of their own followed by an inaccessible guard page (so a call
// told to write past the end gets EFAULT instead of scribbling over the
// fuzzer's Go heap), and a scratch mapping that the memory calls may
// carve up.
type arena struct {
	data    []byte  // the data mapping, less its guard page
	buf     []byte  // its first half
	next    int     // where in data the next string or array goes
	scratch uintptr // scratchSize bytes, the only target of mm calls
	strs    []uintptr
	arrays  []uintptr
	mu      sync.Mutex
	fds     []uintptr // descriptors it opened
	handles []uintptr // handles it created
	guard   map[uintptr]bool
}

const (
	dataSize    = 128 << 10
	scratchSize = 1 << 20
)

// place copies b into the data mapping and returns its address.
func (a *arena) place(b []byte) uintptr {
	off := (a.next + 7) &^ 7
	if off+len(b) > dataSize {
		return 0
	}
	copy(a.data[off:], b)
	a.next = off + len(b)
	return uintptr(unsafe.Pointer(&a.data[off]))
}

// bufAddr is the address of buf[off].
func (a *arena) bufAddr(off int) uintptr { return uintptr(unsafe.Pointer(&a.buf[off])) }

func (a *arena) cstring(s string) uintptr {
	p := a.place(append([]byte(s), 0))
	a.strs = append(a.strs, p)
	return p
}

func (a *arena) array(ptrs ...uintptr) uintptr {
	b := make([]byte, 8*(len(ptrs)+1))
	for i, q := range ptrs {
		*(*uintptr)(unsafe.Pointer(&b[8*i])) = q
	}
	p := a.place(b)
	a.arrays = append(a.arrays, p)
	return p
}

func newArena() *arena {
	a := &arena{guard: map[uintptr]bool{}}
	data, err := syscall.Mmap(-1, 0, dataSize+4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		os.Exit(3)
	}
	if syscall.Mprotect(data[dataSize:], syscall.PROT_NONE) != nil {
		os.Exit(3)
	}
	a.data = data[:dataSize]
	a.buf = data[:dataSize/2]
	a.next = dataSize / 2
	// The runtime's own descriptors (epoll, eventfd, ...) are off limits:
	// closing them kills the fuzzer, not the kernel.
	for fd := uintptr(0); fd < 64; fd++ {
		if _, _, e := syscall.RawSyscall(unix.SYS_FCNTL, fd, syscall.F_GETFD, 0); e == 0 {
			a.guard[fd] = true
		}
	}
	// The scratch mapping sits between two guard pages that no memory
	// call is aimed at.
	if m, err := syscall.Mmap(-1, 0, scratchSize+2*4096, syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANON); err == nil {
		if syscall.Mprotect(m[4096:4096+scratchSize], syscall.PROT_READ|syscall.PROT_WRITE) == nil {
			a.scratch = uintptr(unsafe.Pointer(&m[0])) + 4096
		}
	}
	hello := a.cstring("/bin/hello")
	a.cstring("/")
	a.cstring("/etc")
	a.cstring("")
	a.cstring("/no/such/file")
	a.cstring("../../../../bin/../bin/./hello")
	long := make([]byte, 5000)
	for i := range long {
		long[i] = 'a' + byte(i%26)
	}
	longp := a.cstring(string(long))
	a.array(hello)
	a.array(hello, longp, hello)
	a.array(0xffff800000000000)
	for _, path := range []string{"/bin/hello", "/", "/etc"} {
		if fd, err := syscall.Open(path, syscall.O_RDONLY, 0); err == nil {
			a.fds = append(a.fds, uintptr(fd))
		}
	}
	var p [2]int
	if syscall.Pipe2(p[:], syscall.O_CLOEXEC) == nil {
		a.fds = append(a.fds, uintptr(p[0]), uintptr(p[1]))
	}
	if fd, _, e := syscall.RawSyscall(unix.SYS_EVENTFD2, 0, 0, 0); e == 0 {
		a.fds = append(a.fds, fd)
	}
	if fd, err := syscall.EpollCreate1(0); err == nil {
		a.fds = append(a.fds, uintptr(fd))
	}
	for _, nr := range []uintptr{ipc.SysEndpointCreate, ipc.SysNotifyCreate} {
		if h, _, e := syscall.RawSyscall(nr, 0, 0, 0); e == 0 {
			a.handles = append(a.handles, h)
		}
	}
	if h, _, e := syscall.RawSyscall(ipc.SysMemCreate, 8192, 0, 0); e == 0 {
		a.handles = append(a.handles, h)
	}
	return a
}

// worker makes calls with its own random stream; threads share the
// arena, so they race on the same descriptors, handles and mappings.
type worker struct {
	a   *arena
	rnd *rand.Rand
}

func (w *worker) n(k int) int { return w.rnd.IntN(k) }

// value draws one argument from everything kernels get wrong.
func (w *worker) value() uintptr {
	a := w.a
	switch w.n(12) {
	case 0:
		return uintptr(w.n(9)) // small: flags, fds, lengths, signals
	case 1:
		return [...]uintptr{^uintptr(0), 1 << 31, 1<<32 - 1, 1 << 63, 1<<63 - 1, 4096, 4095, 1 << 20, 1 << 30, 1 << 47}[w.n(10)]
	case 2:
		return uintptr(w.rnd.Uint64())
	case 3: // into its buffer, possibly at the very end
		off := [...]int{0, w.n(len(a.buf)), len(a.buf) - 1, len(a.buf) - 8, len(a.buf) - 64}[w.n(5)]
		return uintptr(unsafe.Pointer(&a.buf[0])) + uintptr(off)
	case 4: // unmapped, kernel, non-canonical
		return [...]uintptr{0, 0x1000, 0xffff800000000000, 0xffffffff80200000, 0x0000800000000000, 0x00007ffffffff000, 0xdead0000}[w.n(7)]
	case 5:
		return a.strs[w.n(len(a.strs))]
	case 6:
		return a.arrays[w.n(len(a.arrays))]
	case 7:
		return w.scratchAddr()
	case 8:
		return w.fd()
	case 9:
		return w.handle()
	case 10:
		return uintptr(w.n(64) + 1) // signals
	}
	return uintptr(w.rnd.Uint32())
}

func (w *worker) scratchAddr() uintptr {
	if w.a.scratch == 0 || w.n(8) == 0 {
		return [...]uintptr{0, 0xffff800000000000, 0x1001}[w.n(3)]
	}
	off := uintptr(w.n(scratchSize/4096)) * 4096
	if w.n(10) == 0 {
		off += uintptr(w.n(4096)) // unaligned
	}
	return w.a.scratch + off
}

func (w *worker) fd() uintptr {
	a := w.a
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.fds) == 0 || w.n(6) == 0 {
		return [...]uintptr{1000, 1 << 20, ^uintptr(0), 63}[w.n(4)]
	}
	return a.fds[w.n(len(a.fds))]
}

func (w *worker) handle() uintptr {
	a := w.a
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.handles) == 0 || w.n(5) == 0 {
		return uintptr(w.n(8)) | uintptr(w.n(3))<<32
	}
	h := a.handles[w.n(len(a.handles))]
	if w.n(10) == 0 {
		h += 1 << 32 // stale generation
	}
	return h
}

// remember keeps descriptors and handles the kernel hands back.
func (w *worker) remember(nr, r uintptr) {
	a := w.a
	a.mu.Lock()
	defer a.mu.Unlock()
	switch nr {
	case unix.SYS_OPEN, unix.SYS_OPENAT, unix.SYS_DUP, unix.SYS_EPOLL_CREATE1, unix.SYS_EVENTFD2, unix.SYS_SOCKET, unix.SYS_ACCEPT4:
		if len(a.fds) < 200 {
			a.fds = append(a.fds, r)
		}
	case ipc.SysEndpointCreate, ipc.SysNotifyCreate, ipc.SysMemCreate, ipc.SysHandleDup:
		if len(a.handles) < 200 {
			a.handles = append(a.handles, r)
		}
	}
}

// call makes one random system call.
func (w *worker) call() {
	c := calls[w.n(len(calls))]
	if c.rare > 0 && w.n(c.rare) != 0 {
		return
	}
	var args [6]uintptr
	for i := range args {
		args[i] = w.value()
	}
	if c.tame != nil {
		c.tame(w, &args)
	}
	// Descriptors the runtime lives on are never handed to calls that
	// could close, replace or drain them.
	if c.fdArgs != 0 {
		for i := range args {
			if c.fdArgs&(1<<i) != 0 && w.a.guard[args[i]] {
				args[i] = w.fd()
			}
		}
	}
	r, _, e := syscall.Syscall6(c.nr, args[0], args[1], args[2], args[3], args[4], args[5])
	if e == 0 {
		w.remember(c.nr, r)
	}
}

// runChild makes calls from several threads at once and returns when
// they are done, or a little after the first is done (a thread may block
// forever in a call, which is correct; exiting ends it).
func runChild(seed uint64, calls int) {
	a := newArena()
	for fd := 0; fd < 3; fd++ {
		if a.guard[uintptr(fd)] {
			syscall.Close(fd) // nothing the fuzzer does reaches the console
			delete(a.guard, uintptr(fd))
		}
	}
	const threads = 4
	done := make(chan struct{}, threads)
	for i := 0; i < threads; i++ {
		go func(i int) {
			runtime.LockOSThread()
			w := &worker{a: a, rnd: rand.New(rand.NewPCG(seed, uint64(i)))}
			for j := 0; j < calls/threads; j++ {
				w.call()
			}
			done <- struct{}{}
		}(i)
	}
	<-done
	deadline := time.After(500 * time.Millisecond)
	for i := 1; i < threads; i++ {
		select {
		case <-done:
		case <-deadline:
			os.Exit(0)
		}
	}
}
