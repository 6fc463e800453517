package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// splice-abuse: splice(2) moves bytes between a pipe and another
// descriptor inside the kernel. Wrong pairs and offsets are refused with
// Linux's errors; and bytes are conserved: several threads splicing one
// pipe into another and back while others write and read lose and
// duplicate nothing.
func init() { addTest("splice-abuse", spliceAbuse) }

func splice(in int, offIn uintptr, out int, offOut uintptr, n int, flags int) (int, error) {
	r, _, e := unix.Syscall6(unix.SYS_SPLICE, uintptr(in), offIn, uintptr(out), offOut, uintptr(n), uintptr(flags))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

func spliceAbuse() error {
	var p, q [2]int
	if err := unix.Pipe(p[:]); err != nil {
		return err
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	if err := unix.Pipe(q[:]); err != nil {
		return err
	}
	defer unix.Close(q[0])
	defer unix.Close(q[1])
	// The attacks run on the read-only initfs: a file to read from, and
	// /dev/null to write to.
	f, err := os.Open("/etc/motd")
	if err != nil {
		return err
	}
	defer f.Close()
	fd := int(f.Fd())
	null, err := os.OpenFile("/dev/null", os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer null.Close()
	off := int64(0)
	neg := int64(-5)
	cases := []struct {
		what   string
		in     int
		offIn  uintptr
		out    int
		offOut uintptr
		flags  int
		want   error
	}{
		{"file to file", fd, 0, int(null.Fd()), 0, 0, unix.EINVAL},
		{"into a read-only file", p[0], 0, fd, 0, 0, unix.EBADF},
		{"a pipe into itself", p[0], 0, p[1], 0, 0, unix.EINVAL},
		{"from a write end", p[1], 0, q[1], 0, 0, unix.EBADF},
		{"into a read end", p[0], 0, q[0], 0, 0, unix.EBADF},
		{"an offset for a pipe", p[0], uintptr(unsafe.Pointer(&off)), int(null.Fd()), 0, 0, unix.ESPIPE},
		{"a bad offset pointer", fd, 8, p[1], 0, 0, unix.EFAULT},
		{"a negative offset", fd, uintptr(unsafe.Pointer(&neg)), p[1], 0, 0, unix.EINVAL},
		{"unknown flags", p[0], 0, q[1], 0, 0x100, unix.EINVAL},
		{"a closed descriptor", 999, 0, p[1], 0, 0, unix.EBADF},
		{"an empty pipe, non-blocking", p[0], 0, q[1], 0, unix.SPLICE_F_NONBLOCK, unix.EAGAIN},
	}
	for _, c := range cases {
		if _, err := splice(c.in, c.offIn, c.out, c.offOut, 4096, c.flags); !errors.Is(err, c.want) {
			return fmt.Errorf("splice %s: %v, want %v", c.what, err, c.want)
		}
	}
	// A file with an offset into a pipe: the offset moves, the file's
	// doesn't ("Welcome to Valence." from byte 3).
	off = 3
	if n, err := splice(fd, uintptr(unsafe.Pointer(&off)), p[1], 0, 4, 0); n != 4 || err != nil || off != 7 {
		return fmt.Errorf("splice of a file at offset 3: %d, %v, offset now %d; want 4 bytes, offset 7", n, err, off)
	}
	got := make([]byte, 16)
	if n, _ := unix.Read(p[0], got); string(got[:n]) != "come" {
		return fmt.Errorf("pipe got %q from the file, want \"come\"", got[:n])
	}
	if pos, err := f.Seek(0, 1); pos != 0 || err != nil {
		return fmt.Errorf("the file's own offset moved to %d (%v)", pos, err)
	}
	// Conservation under races: writers put their letter in p, movers
	// splice p to q, this thread drains q; every byte arrives once.
	const writers, per = 4, 20000
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			b := bytes.Repeat([]byte{byte('a' + w)}, 100)
			for i := 0; i < per/100; i++ {
				unix.Write(p[1], b)
			}
		}(w)
	}
	var moved sync.WaitGroup
	done := make(chan struct{})
	for m := 0; m < 3; m++ {
		moved.Add(1)
		go func() {
			defer moved.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				splice(p[0], 0, q[1], 0, 777, unix.SPLICE_F_NONBLOCK)
			}
		}()
	}
	counts := map[byte]int{}
	total := 0
	for total < writers*per {
		fds := []unix.PollFd{{Fd: int32(q[0]), Events: unix.POLLIN}}
		if n, err := unix.Poll(fds, 20000); n == 0 && err == nil {
			close(done)
			return fmt.Errorf("nothing more arrived in 20 s after %d of %d bytes: %v", total, writers*per, counts)
		}
		n, err := unix.Read(q[0], got)
		if err != nil {
			return fmt.Errorf("reading q: %v", err)
		}
		for _, c := range got[:n] {
			counts[c]++
		}
		total += n
	}
	close(done)
	wg.Wait()
	moved.Wait()
	for w := 0; w < writers; w++ {
		if c := counts[byte('a'+w)]; c != per {
			return fmt.Errorf("writer %d's bytes arrived %d times, want %d (%v)", w, c, per, counts)
		}
	}
	return nil
}
