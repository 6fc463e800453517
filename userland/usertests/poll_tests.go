package main

import (
	"errors"
	"fmt"
	"syscall"
	"time"
	"unsafe"
)

// pollFd is struct pollfd.
type pollFd struct {
	fd      int32
	events  int16
	revents int16
}

const (
	pollIn   = 0x1
	pollOut  = 0x4
	pollHup  = 0x10
	pollNval = 0x20
)

func poll(fds []pollFd, timeoutMs int) (int, error) {
	n, _, e := syscall.Syscall(syscall.SYS_POLL, uintptr(unsafe.Pointer(&fds[0])), uintptr(len(fds)), uintptr(timeoutMs))
	if e != 0 {
		return int(n), e
	}
	return int(n), nil
}

// testPollSelect: poll(2) and select(2) over a pipe: what is ready now,
// blocking until a write, the timeout, POLLHUP after the writer closes,
// POLLNVAL and EBADF for a closed descriptor, EFAULT for a bad array.
func testPollSelect() error {
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		return err
	}
	r, w := p[0], p[1]
	defer syscall.Close(r)
	fds := []pollFd{{fd: int32(r), events: pollIn}, {fd: int32(w), events: pollOut}, {fd: -1, events: pollIn}}
	if n, err := poll(fds, 0); n != 1 || err != nil || fds[0].revents != 0 || fds[1].revents != pollOut || fds[2].revents != 0 {
		return fmt.Errorf("poll of an empty pipe: %d %v %+v", n, err, fds)
	}
	start := time.Now()
	if n, err := poll(fds[:1], 50); n != 0 || err != nil || time.Since(start) < 50*time.Millisecond {
		return fmt.Errorf("poll timeout: %d %v after %v", n, err, time.Since(start))
	}
	go func() { time.Sleep(20 * time.Millisecond); syscall.Write(w, []byte("x")) }()
	if n, err := poll(fds[:1], -1); n != 1 || err != nil || fds[0].revents != pollIn {
		return fmt.Errorf("poll woken by a write: %d %v %+v", n, err, fds[0])
	}
	// select: the pipe is readable now; its write end writable.
	var rset, wset syscall.FdSet
	rset.Bits[r/64] |= 1 << (uint(r) % 64)
	wset.Bits[w/64] |= 1 << (uint(w) % 64)
	tv := syscall.Timeval{Sec: 1}
	n, err := syscall.Select(max(r, w)+1, &rset, &wset, nil, &tv)
	if n != 2 || err != nil || rset.Bits[r/64]&(1<<(uint(r)%64)) == 0 || wset.Bits[w/64]&(1<<(uint(w)%64)) == 0 {
		return fmt.Errorf("select: %d %v", n, err)
	}
	syscall.Close(w)
	fds[0].revents = 0
	if n, err := poll(fds[:1], 0); n != 1 || err != nil || fds[0].revents&pollHup == 0 {
		return fmt.Errorf("poll after the writer closed: %d %v %+v", n, err, fds[0])
	}
	closed := []pollFd{{fd: int32(w), events: pollIn}}
	if n, err := poll(closed, -1); n != 1 || err != nil || closed[0].revents != pollNval {
		return fmt.Errorf("poll of a closed descriptor: %d %v %+v", n, err, closed[0])
	}
	var bad syscall.FdSet
	bad.Bits[w/64] |= 1 << (uint(w) % 64)
	if _, err := syscall.Select(w+1, &bad, nil, nil, &syscall.Timeval{}); !errors.Is(err, syscall.EBADF) {
		return fmt.Errorf("select of a closed descriptor: %v, want EBADF", err)
	}
	if _, _, e := syscall.Syscall(syscall.SYS_POLL, 8, 1, 0); e != syscall.EFAULT {
		return fmt.Errorf("poll of a bad array: %v, want EFAULT", e)
	}
	if _, _, e := syscall.Syscall(syscall.SYS_POLL, uintptr(unsafe.Pointer(&fds[0])), 1<<20, 0); e != syscall.EINVAL {
		return fmt.Errorf("poll of 2^20 descriptors: %v, want EINVAL", e)
	}
	return nil
}
