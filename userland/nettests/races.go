package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// socket-races: calls blocked on a socket while another goroutine or
// thread closes it, and many writers on one connection.

// promptly bounds how long a blocked call may take to notice a close.
const promptly = 10 * time.Second

func testSocketRaces() error {
	return errors.Join(
		raceAcceptClose(),
		raceReadClose(),
		raceManyWriters(),
		raceRawWriters(),
		raceRawAcceptClose(),
	)
}

// blockedThenClosed runs blocked (a call that should block), closes with
// close once it has had time to block, and wants blocked to end with an
// error within promptly.
func blockedThenClosed(what string, blocked func() error, close func() error) error {
	done := make(chan error, 1)
	go func() { done <- blocked() }()
	select {
	case err := <-done:
		return fmt.Errorf("%s returned before the close: %v", what, err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := close(); err != nil {
		return fmt.Errorf("%s: the close: %w", what, err)
	}
	select {
	case err := <-done:
		if err == nil {
			return fmt.Errorf("%s: no error after the close", what)
		}
		if !errors.Is(err, net.ErrClosed) {
			return fmt.Errorf("%s after the close: %v, want net.ErrClosed", what, err)
		}
		return nil
	case <-time.After(promptly):
		return fmt.Errorf("%s still blocked %v after the close", what, promptly)
	}
}

// raceAcceptClose: Listener.Accept blocked while the listener is closed.
func raceAcceptClose() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	return blockedThenClosed("Accept", func() error { _, err := l.Accept(); return err }, l.Close)
}

// raceReadClose: Conn.Read blocked while the same connection is closed;
// the peer then sees EOF.
func raceReadClose() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	c, err := net.DialTimeout("tcp", l.Addr().String(), 30*time.Second)
	if err != nil {
		return err
	}
	peer, err := l.Accept()
	if err != nil {
		c.Close()
		return err
	}
	defer peer.Close()
	err = blockedThenClosed("Read", func() error { _, err := c.Read(make([]byte, 10)); return err }, c.Close)
	if err != nil {
		return err
	}
	peer.SetReadDeadline(time.Now().Add(promptly))
	if n, err := peer.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		return fmt.Errorf("the peer of a connection closed during a Read: %d bytes, %v; want EOF", n, err)
	}
	return nil
}

// raceManyWriters: 16 goroutines write records to one connection at
// once while the peer reads. Go's net.Conn serialises whole Writes, so
// every record must arrive intact, each writer's in order, none lost.
func raceManyWriters() error {
	const writers, records, size = 16, 32, 2048 // 1 MiB in all
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	c, err := net.DialTimeout("tcp", l.Addr().String(), 30*time.Second)
	if err != nil {
		return err
	}
	peer, err := l.Accept()
	if err != nil {
		c.Close()
		return err
	}
	defer peer.Close()
	var wg sync.WaitGroup
	writeErrs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range records {
				rec := pattern(size, byte(w))
				binary.BigEndian.PutUint32(rec, uint32(w))
				binary.BigEndian.PutUint32(rec[4:], uint32(r))
				if _, err := c.Write(rec); err != nil {
					writeErrs <- fmt.Errorf("writer %d record %d: %w", w, r, err)
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); c.Close() }()
	next := make([]uint32, writers)
	peer.SetReadDeadline(time.Now().Add(5 * time.Minute))
	rec := make([]byte, size)
	for got := 0; got < writers*records; got++ {
		if _, err := io.ReadFull(peer, rec); err != nil {
			return fmt.Errorf("many writers: after %d of %d records: %w", got, writers*records, err)
		}
		w, r := binary.BigEndian.Uint32(rec), binary.BigEndian.Uint32(rec[4:])
		if w >= writers || r != next[w] {
			return fmt.Errorf("many writers: record %d is writer %d's record %d (want its record %d)", got, w, r, next[min(w, writers-1)])
		}
		want := pattern(size, byte(w))
		if string(rec[8:]) != string(want[8:]) {
			return fmt.Errorf("many writers: writer %d's record %d arrived with other bytes", w, r)
		}
		next[w]++
	}
	if n, err := peer.Read(rec); n != 0 || err != io.EOF {
		return fmt.Errorf("many writers: after every record: %d more bytes (%v), want EOF", n, err)
	}
	select {
	case err := <-writeErrs:
		return err
	default:
	}
	return nil
}

// raceRawWriters: 8 threads write(2) to one blocking TCP socket at once
// while the peer reads. Linux does not promise that concurrent writes do
// not interleave, but every byte must arrive: the peer counts them.
func raceRawWriters() error {
	const writers, chunks, size = 8, 16, 8 << 10 // 1 MiB in all
	client, server, err := rawPair()
	if err != nil {
		return err
	}
	defer syscall.Close(server)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var writeErr error
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, size)
			for range chunks {
				for off := 0; off < size; {
					n, err := syscall.Write(client, buf[off:])
					if err != nil {
						mu.Lock()
						writeErr = errors.Join(writeErr, err)
						mu.Unlock()
						return
					}
					off += n
				}
			}
		}()
	}
	go func() { wg.Wait(); syscall.Shutdown(client, syscall.SHUT_WR) }()
	defer syscall.Close(client)
	total := make(chan int, 1)
	go func() {
		n := 0
		buf := make([]byte, 64<<10)
		for {
			k, err := syscall.Read(server, buf)
			if k <= 0 || err != nil {
				break
			}
			n += k
		}
		total <- n
	}()
	select {
	case n := <-total:
		mu.Lock()
		defer mu.Unlock()
		if writeErr != nil {
			return fmt.Errorf("raw writers: %w", writeErr)
		}
		if n != writers*chunks*size {
			return fmt.Errorf("raw writers: the peer read %d bytes, %d were written", n, writers*chunks*size)
		}
		return nil
	case <-time.After(5 * time.Minute):
		return errors.New("raw writers: the peer had not read everything after 5 minutes")
	}
}

// raceRawAcceptClose: a thread blocked in accept(2) on a blocking
// socket while another closes the descriptor. Linux leaves the accept
// blocked (the call holds the file; close only removes the descriptor).
// Signalled, the thread's accept is restarted (Go's handlers are
// SA_RESTART) and finds the descriptor closed: EBADF; an implementation
// may also end it with EINTR. Either is required within a few seconds of
// the signal. If it stays blocked, a connection to the still-listening
// socket releases the thread, and the test fails.
func raceRawAcceptClose() error {
	fd, port, err := rawListener(false)
	if err != nil {
		return err
	}
	tid := make(chan int, 1)
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // the signal goes to this thread
		tid <- syscall.Gettid()
		nfd, _, err := syscall.Accept4(fd, syscall.SOCK_CLOEXEC)
		if err == nil {
			syscall.Close(nfd)
		}
		done <- err
	}()
	t := <-tid
	time.Sleep(300 * time.Millisecond)
	syscall.Close(fd)
	wokeOnClose := false
	select {
	case err := <-done:
		fmt.Printf("nettests: socket-races: a blocked accept(2) ended when another thread closed its descriptor: %v (Linux keeps it blocked)\n", err)
		wokeOnClose = true
		if err == nil {
			return errors.New("raw accept: a blocked accept succeeded after its descriptor was closed")
		}
	case <-time.After(500 * time.Millisecond):
	}
	if wokeOnClose {
		return nil
	}
	pid := os.Getpid()
	deadline := time.After(5 * time.Second)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	syscall.Tgkill(pid, t, syscall.SIGURG)
	for {
		select {
		case err := <-done:
			fmt.Printf("nettests: socket-races: a blocked accept(2) whose descriptor was closed ended when its thread was signalled: %v\n", err)
			if !errors.Is(err, syscall.EBADF) && !errors.Is(err, syscall.EINTR) {
				return fmt.Errorf("raw accept: after the close and a signal: %v, want EBADF (or EINTR)", err)
			}
			return nil
		case <-tick.C:
			syscall.Tgkill(pid, t, syscall.SIGURG)
		case <-deadline:
			c, err := rawDial(port)
			if err == nil {
				syscall.Close(c)
			}
			return fmt.Errorf("raw accept: still blocked 5 s after its descriptor was closed and its thread signalled (a connection to the closed listener: %v)", err)
		}
	}
}
