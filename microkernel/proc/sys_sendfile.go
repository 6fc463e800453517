package proc

import (
	"encoding/binary"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
)

// sendfileChunk is how much sendfile reads from its source at a time: the
// kernel buffer it copies through, whatever the count.
const sendfileChunk = 64 << 10

// sysSendfile implements sendfile(2): the kernel copies up to count bytes
// from in_fd, a file it can read at an offset, to out_fd, any file open
// for writing (a socket, a pipe, a file). Go's io.Copy from an *os.File to
// a TCP connection (net/http's file server, os.File.WriteTo) calls it
// first, and net's tests demand that it did the copy.
//
// As on Linux: with offset NULL the copy starts at in_fd's file offset
// and advances it; otherwise it starts at *offset, which it updates, and
// in_fd's offset stays. Only the bytes written count: what was read
// beyond a short write is read again next time, so a non-blocking socket
// that fills up loses nothing. It returns the bytes written, or the error
// if none were (EAGAIN from a full non-blocking out_fd).
func sysSendfile(c *call) result {
	out, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	defer out.Drop()
	in, e := c.file(1)
	if e != 0 {
		return fail(e)
	}
	defer in.Drop()
	offPtr, count := c.arg(2), c.arg(3)
	if in.Flags&linux.O_ACCMODE == linux.O_WRONLY || out.Flags&linux.O_ACCMODE == linux.O_RDONLY {
		return fail(errno.EBADF)
	}
	// Linux reads the source through the page cache, so only a file with
	// offsets will do; and it refuses an O_APPEND destination.
	if !in.File.Seekable() || out.Flags&linux.O_APPEND != 0 {
		return fail(errno.EINVAL)
	}
	var off int64
	if offPtr != 0 {
		var b [8]byte
		if err := c.as().CopyIn(offPtr, b[:]); err != nil {
			return fail(errno.EFAULT)
		}
		off = int64(binary.LittleEndian.Uint64(b[:]))
		if off < 0 {
			return fail(errno.EINVAL)
		}
	} else {
		in.Mu.Lock()
		off = in.Off
		in.Mu.Unlock()
	}
	if count > maxIO {
		count = maxIO
	}
	n, e := copyFile(c, out, in, off, int64(count))
	if n == 0 && e != 0 {
		return fail(e)
	}
	if offPtr != 0 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(off+n))
		if err := c.as().CopyOut(offPtr, b[:]); err != nil {
			return fail(errno.EFAULT)
		}
	} else {
		in.Mu.Lock()
		in.Off = off + n
		in.Mu.Unlock()
	}
	return ok(uint64(n))
}

// copyFile copies up to count bytes of in from off to out, a chunk at a
// time, and returns how many out took, with the error that stopped it
// early (0 at in's end or a short write).
func copyFile(c *call, out, in *kfile.OpenFile, off, count int64) (int64, errno.Errno) {
	buf := make([]byte, min(count, sendfileChunk))
	var done int64
	for done < count {
		chunk := buf[:min(count-done, int64(len(buf)))]
		r, e := in.File.Read(c.t, chunk, off+done, false)
		if e != 0 || r == 0 {
			return done, e
		}
		w, e := writeOut(c, out, chunk[:r])
		done += int64(w)
		if e != 0 || w < r {
			return done, e
		}
	}
	return done, 0
}

// writeOut writes b to out as write(2) would: at and past its file
// offset if it has one, blocking unless it is non-blocking.
func writeOut(c *call, out *kfile.OpenFile, b []byte) (int, errno.Errno) {
	if !out.File.Seekable() {
		return out.File.Write(c.t, b, 0, out.Nonblock())
	}
	nonblock := out.Nonblock() // takes out.Mu: before, not under it
	out.Mu.Lock()
	defer out.Mu.Unlock()
	n, e := out.File.Write(c.t, b, out.Off, nonblock)
	out.Off += int64(n)
	return n, e
}
