package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// socket-flood: a program that opens sockets until the descriptor table
// is full gets EMFILE and nothing else breaks (a connection it already
// had still works, and after it closes them a new one does); 2000
// connect/close cycles leak no descriptor and leave netd working.

// openFDs counts the process's descriptors through /proc/self/fd (less
// the one that reads the directory).
func openFDs() (int, error) {
	names, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0, err
	}
	return len(names) - 1, nil
}

// echoServer serves echo on 127.0.0.1 until the listener is closed. An
// accept that fails for want of descriptors is retried.
func echoServer() (net.Listener, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			c, err := l.Accept()
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			if err != nil {
				return
			}
			go echo(c)
		}
	}()
	return l, nil
}

// echo copies what c reads back to it until EOF, then closes it. Not
// io.Copy: Go's splice path keeps a pool of pipes, which would blur the
// count of descriptors.
func echo(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// echoOnce sends msg on c and expects it back within a minute.
func echoOnce(c net.Conn, msg string) error {
	c.SetDeadline(time.Now().Add(time.Minute))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, msg); err != nil {
		return err
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != msg {
		return fmt.Errorf("echo of %q: %q (%v)", msg, got, err)
	}
	return nil
}

// limitFDs is RLIMIT_NOFILE's soft limit, brought down to 1024 (what
// Valence fixes) where it is higher, so that the flood ends soon on Linux
// too.
func limitFDs() (uint64, error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, err
	}
	if r.Cur > 1024 {
		r.Cur = 1024
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
			return 0, err
		}
	}
	return r.Cur, nil
}

func testSocketFlood() error {
	limit, err := limitFDs()
	if err != nil {
		return fmt.Errorf("RLIMIT_NOFILE: %w", err)
	}
	l, err := echoServer()
	if err != nil {
		return err
	}
	defer l.Close()
	old, err := net.DialTimeout("tcp", l.Addr().String(), 30*time.Second)
	if err != nil {
		return err
	}
	defer old.Close()
	if err := echoOnce(old, "before the flood"); err != nil {
		return err
	}
	base, err := openFDs()
	if err != nil {
		return err
	}
	if err := flood(limit, base, old); err != nil {
		return err
	}
	if n, err := openFDs(); err != nil || n != base {
		return fmt.Errorf("after closing the flood: %d descriptors (%v), %d before", n, err, base)
	}
	c, err := net.DialTimeout("tcp", l.Addr().String(), 30*time.Second)
	if err != nil {
		return fmt.Errorf("a connection after the flood: %w", err)
	}
	err = echoOnce(c, "after the flood")
	c.Close()
	if err != nil {
		return err
	}
	return connectCycles(l.Addr().String(), base)
}

// flood opens sockets until socket(2) fails, which must be EMFILE at the
// limit, checks that old still echoes and that a pipe is EMFILE too, and
// closes them.
func flood(limit uint64, base int, old net.Conn) error {
	var fds []int
	defer func() {
		for _, fd := range fds {
			syscall.Close(fd)
		}
	}()
	var err error
	for len(fds) < 2*int(limit) {
		var fd int
		if fd, err = syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0); err != nil {
			break
		}
		fds = append(fds, fd)
	}
	fmt.Printf("nettests: socket-flood: %d sockets open besides %d descriptors, then %v\n", len(fds), base, err)
	if !errors.Is(err, syscall.EMFILE) {
		return fmt.Errorf("after %d sockets (and %d other descriptors; RLIMIT_NOFILE %d): %v, want EMFILE", len(fds), base, limit, err)
	}
	// Go's runtime may hold a descriptor or two that /proc did not show
	// when it was counted; the table is full to within those.
	if got := base + len(fds); uint64(got) > limit || uint64(got)+4 < limit {
		return fmt.Errorf("EMFILE with %d descriptors open, RLIMIT_NOFILE is %d", got, limit)
	}
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); !errors.Is(err, syscall.EMFILE) {
		if err == nil {
			syscall.Close(p[0])
			syscall.Close(p[1])
		}
		return fmt.Errorf("pipe2 with the table full: %v, want EMFILE", err)
	}
	if err := echoOnce(old, "during the flood"); err != nil {
		return fmt.Errorf("a connection made before the flood, with the table full: %w", err)
	}
	// Half of them listening and connected would be a bigger load on
	// netd; listen on a few at least, so that they hold ports.
	for _, fd := range fds[:min(len(fds), 64)] {
		if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: loopback}); err != nil {
			return fmt.Errorf("bind with the table full: %w", err)
		}
		if err := syscall.Listen(fd, 1); err != nil {
			return fmt.Errorf("listen with the table full: %w", err)
		}
	}
	return nil
}

// connectCycles: NETTESTS_FLOOD_CYCLES times (default 2000; make test's
// TestNet asks for 500), connect to addr, echo a byte, close. The
// descriptors come back to base, and netd serves a new connection.
func connectCycles(addr string, base int) error {
	cycles := 2000
	if n, err := strconv.Atoi(os.Getenv("NETTESTS_FLOOD_CYCLES")); err == nil && n > 0 {
		cycles = n
	}
	start := time.Now()
	for i := range cycles {
		c, err := net.DialTimeout("tcp", addr, 30*time.Second)
		if err != nil {
			return fmt.Errorf("connect/close cycle %d: %w", i, err)
		}
		if i%100 == 0 {
			err = echoOnce(c, "x")
		}
		c.Close()
		if err != nil {
			return fmt.Errorf("connect/close cycle %d: %w", i, err)
		}
	}
	fmt.Printf("nettests: socket-flood: %d connect/close cycles in %v\n", cycles, time.Since(start).Round(time.Millisecond))
	// The server's side closes when its echo goroutine sees EOF: give it
	// a moment.
	deadline := time.Now().Add(30 * time.Second)
	n, err := openFDs()
	// Fewer is no leak: a connection of an earlier test may have ended.
	for (err != nil || n > base) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		n, err = openFDs()
	}
	if err != nil || n > base {
		return fmt.Errorf("after %d connect/close cycles: %d descriptors (%v), %d before: %s", cycles, n, err, base, fdKinds())
	}
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return fmt.Errorf("a connection after the cycles: %w", err)
	}
	defer c.Close()
	return echoOnce(c, "after the cycles")
}

// fdKinds summarises what the descriptors are, for a failure message.
func fdKinds() string {
	names, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return err.Error()
	}
	kinds := map[string]int{}
	for _, n := range names {
		target, err := os.Readlink("/proc/self/fd/" + n.Name())
		if err != nil {
			continue
		}
		if i := strings.IndexByte(target, '['); i > 0 {
			target = target[:i]
		}
		kinds[target]++
	}
	return fmt.Sprint(kinds)
}
