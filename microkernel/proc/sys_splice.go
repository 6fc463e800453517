package proc

import (
	"encoding/binary"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/pipe"
)

// spliceFlags are the flags splice(2) knows; SPLICE_F_MOVE, MORE and
// GIFT are hints with nothing to act on here.
const spliceFlags = linux.SPLICE_F_MOVE | linux.SPLICE_F_NONBLOCK | linux.SPLICE_F_MORE | linux.SPLICE_F_GIFT

// sysSplice implements splice(2): up to len bytes between a pipe and any
// other descriptor (a socket, a file, another pipe), through the kernel.
// One side must be a pipe (EINVAL otherwise, or when both are ends of the
// same pipe); a pipe side takes no offset (ESPIPE); a file side with an
// offset pointer reads or writes there and updates it, leaving the file
// offset alone, as pread/pwrite do. SPLICE_F_NONBLOCK makes the pipe side
// non-blocking; the other side follows its own O_NONBLOCK. Nothing is
// lost on a short transfer: bytes leave a pipe only once the destination
// took them, and are read from a source only as far as the pipe has room
// (package pipe's ReadTo and WriteFrom). Go's io.Copy between TCP
// connections and from a file to one goes through here (net's splice).
func sysSplice(c *call) result {
	in, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	defer in.Drop()
	out, e := c.file(2)
	if e != 0 {
		return fail(e)
	}
	defer out.Drop()
	offIn, offOut, n, flags := c.arg(1), c.arg(3), c.arg(4), c.arg(5)
	if flags&^spliceFlags != 0 {
		return fail(errno.EINVAL)
	}
	if in.Flags&linux.O_ACCMODE == linux.O_WRONLY || out.Flags&linux.O_ACCMODE == linux.O_RDONLY {
		return fail(errno.EBADF)
	}
	if out.Flags&linux.O_APPEND != 0 {
		return fail(errno.EINVAL)
	}
	pin, _ := in.File.(*pipe.End)
	pout, _ := out.File.(*pipe.End)
	switch {
	case pin == nil && pout == nil, pipe.SamePipe(pin, pout):
		return fail(errno.EINVAL)
	case pin != nil && offIn != 0, pout != nil && offOut != 0:
		return fail(errno.ESPIPE)
	}
	if n == 0 {
		return ok0()
	}
	count := int(min(n, maxIO))
	pipeNonblock := flags&linux.SPLICE_F_NONBLOCK != 0
	if pin != nil {
		return spliceFromPipe(c, pin, out, offOut, count, pipeNonblock || in.Nonblock())
	}
	return spliceToPipe(c, in, offIn, pout, count, pipeNonblock || out.Nonblock())
}

// spliceFromPipe moves up to count bytes from the pipe to out.
func spliceFromPipe(c *call, src *pipe.End, out *kfile.OpenFile, offPtr uint64, count int, nonblock bool) result {
	off, e := spliceOffset(c, out, offPtr)
	if e != 0 {
		return fail(e)
	}
	n, e := src.ReadTo(c.t, count, nonblock, func(b []byte) (int, errno.Errno) {
		if offPtr != 0 {
			return out.File.Write(c.t, b, off, out.Nonblock())
		}
		return writeOut(c, out, b)
	})
	if n > 0 && offPtr != 0 {
		if e := putOffset(c, offPtr, off+int64(n)); e != 0 {
			return fail(e)
		}
	}
	if n == 0 && e != 0 {
		return fail(e)
	}
	return ok(uint64(n))
}

// spliceToPipe moves up to count bytes from in to the pipe. The source
// is read without blocking while the pipe's writers wait (WriteFrom);
// when it has nothing and the splice may block, the wait for it happens
// outside, on its readiness.
func spliceToPipe(c *call, in *kfile.OpenFile, offPtr uint64, dst *pipe.End, count int, nonblock bool) result {
	off, e := spliceOffset(c, in, offPtr)
	if e != 0 {
		return fail(e)
	}
	for {
		n, e := dst.WriteFrom(c.t, count, nonblock, func(b []byte) (int, errno.Errno) {
			if in.File.Seekable() {
				if offPtr != 0 {
					return in.File.Read(c.t, b, off, true)
				}
				in.Mu.Lock()
				defer in.Mu.Unlock()
				r, e := in.File.Read(c.t, b, in.Off, true)
				in.Off += int64(r)
				return r, e
			}
			return in.File.Read(c.t, b, 0, true)
		})
		if n > 0 && offPtr != 0 {
			if e := putOffset(c, offPtr, off+int64(n)); e != 0 {
				return fail(e)
			}
		}
		if n > 0 || e == 0 {
			return ok(uint64(n))
		}
		if e != errno.EAGAIN || in.Nonblock() {
			return fail(e)
		}
		// The source has nothing yet: wait for it to be readable.
		if e := waitReadable(c, in.File); e != 0 {
			return fail(e)
		}
	}
}

// waitReadable blocks until f reports input, end or error, or a signal.
func waitReadable(c *call, f kfile.File) errno.Errno {
	_, e := kfile.WaitUntil(c.t, pollEvent(f), false, func() (int, errno.Errno, bool) {
		ev, _ := f.Poll()
		return 0, 0, ev&(linux.EPOLLIN|linux.EPOLLHUP|linux.EPOLLERR|linux.EPOLLRDHUP) != 0
	})
	return e
}

// pollEvent is f's readiness event; a file without one is always ready
// (a fresh, never-signalled event makes WaitUntil check once more).
func pollEvent(f kfile.File) *kfile.Event {
	if _, ev := f.Poll(); ev != nil {
		return ev
	}
	return kfile.NewEvent()
}

// spliceOffset is the offset *offPtr for a positional side (EINVAL if
// negative), or 0 when offPtr is NULL; a side that is not seekable
// with an offset pointer is ESPIPE.
func spliceOffset(c *call, of *kfile.OpenFile, offPtr uint64) (int64, errno.Errno) {
	if offPtr == 0 {
		return 0, 0
	}
	if !of.File.Seekable() {
		return 0, errno.ESPIPE
	}
	var b [8]byte
	if err := c.as().CopyIn(offPtr, b[:]); err != nil {
		return 0, errno.EFAULT
	}
	off := int64(binary.LittleEndian.Uint64(b[:]))
	if off < 0 {
		return 0, errno.EINVAL
	}
	return off, 0
}

func putOffset(c *call, offPtr uint64, off int64) errno.Errno {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(off))
	if err := c.as().CopyOut(offPtr, b[:]); err != nil {
		return errno.EFAULT
	}
	return 0
}
