package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// AF_UNIX sockets, abused. They live in the kernel (microkernel/unixsock),
// with buffers and descriptors in flight that a hostile process could
// pile up: hostile pointers and lengths on every call, descriptors passed
// in cycles that would never be freed, floods of descriptors and of
// bytes nobody reads, peers closed under blocked calls, and threads
// racing on one pair. The kernel must answer each call with an error,
// bound what a process holds, free all of it at close, and stay up.

func init() {
	addTest("unix-hostile-args", testUnixHostileArgs)
	addTest("unix-cycles", testUnixCycles)
	addTest("unix-fd-flood", testUnixFDFlood)
	addTest("unix-byte-flood", testUnixByteFlood)
	addTest("unix-close-under-call", testUnixCloseUnderCall)
	addTest("unix-races", testUnixRaces)
	addRole("unix-hoarder", roleUnixHoarder)
}

func unixPair(typ int) (int, int, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, typ|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, -1, fmt.Errorf("socketpair: %w", err)
	}
	return fds[0], fds[1], nil
}

func sys6(trap uintptr, a ...uintptr) syscall.Errno {
	var v [6]uintptr
	copy(v[:], a)
	_, _, e := syscall.Syscall6(trap, v[0], v[1], v[2], v[3], v[4], v[5])
	return e
}

func ptr(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

// msghdr is struct msghdr laid out for the kernel.
type msghdr struct {
	name       uintptr
	namelen    uint32
	_          uint32
	iov        uintptr
	iovlen     uint64
	control    uintptr
	controllen uint64
	flags      int32
	_          int32
}

type iovec struct {
	base uintptr
	len  uint64
}

// sendRights sends one byte with the descriptors fds over s.
func sendRights(s int, fds ...int) error {
	return syscall.Sendmsg(s, []byte{1}, syscall.UnixRights(fds...), nil, syscall.MSG_DONTWAIT)
}

// testUnixHostileArgs: faulting pointers and lying lengths everywhere a
// unix socket call reads or writes the caller's memory. Every call must
// fail with an errno, and a receive that faults must close the
// descriptors it carried (counted below: none may stay in flight).
func testUnixHostileArgs() error {
	a, b, err := unixPair(syscall.SOCK_DGRAM)
	if err != nil {
		return err
	}
	defer syscall.Close(a)
	defer syscall.Close(b)
	bad := []uintptr{16, 0xffff_8000_0000_0000, 0x0000_8000_0000_0000, ^uintptr(0) - 8}
	data := []byte("x")
	iov := []iovec{{ptr(data), 1}}
	var errs []string
	expectErr := func(what string, e syscall.Errno) {
		if e == 0 {
			errs = append(errs, what+" succeeded")
		}
	}
	for _, p := range bad {
		expectErr(fmt.Sprintf("sendmsg(msghdr %#x)", p), sys6(syscall.SYS_SENDMSG, uintptr(a), p, 0))
		expectErr(fmt.Sprintf("recvmsg(msghdr %#x)", p), sys6(syscall.SYS_RECVMSG, uintptr(b), p, syscall.MSG_DONTWAIT))
		m := msghdr{iov: uintptr(unsafe.Pointer(&iov[0])), iovlen: 1, control: p, controllen: 64}
		expectErr(fmt.Sprintf("sendmsg(control %#x)", p), sys6(syscall.SYS_SENDMSG, uintptr(a), uintptr(unsafe.Pointer(&m)), 0))
		expectErr(fmt.Sprintf("bind(%#x)", p), sys6(syscall.SYS_BIND, uintptr(a), p, 20))
		expectErr(fmt.Sprintf("connect(%#x)", p), sys6(syscall.SYS_CONNECT, uintptr(a), p, 20))
		expectErr(fmt.Sprintf("getsockname(len %#x)", p), sys6(syscall.SYS_GETSOCKNAME, uintptr(a), p, p))
		expectErr(fmt.Sprintf("socketpair(%#x)", p), sys6(syscall.SYS_SOCKETPAIR, syscall.AF_UNIX, syscall.SOCK_STREAM, 0, p))
	}
	// Control messages that lie about their lengths.
	rights := syscall.UnixRights(0)
	for _, tc := range []struct {
		name string
		mod  func(c []byte) []byte
		clen uint64
	}{
		{"cmsg_len below the header", func(c []byte) []byte { c[0] = 8; return c }, 0},
		{"cmsg_len past the buffer", func(c []byte) []byte { c[0] = 200; return c }, 0},
		{"a descriptor that is not open", func(c []byte) []byte { c[16] = 250; return c }, 0},
		{"controllen 1 GiB", func(c []byte) []byte { return c }, 1 << 30},
		{"unknown type", func(c []byte) []byte { c[12] = 77; return c }, 0},
	} {
		c := tc.mod(append([]byte(nil), rights...))
		clen := uint64(len(c))
		if tc.clen != 0 {
			clen = tc.clen
		}
		m := msghdr{iov: uintptr(unsafe.Pointer(&iov[0])), iovlen: 1, control: ptr(c), controllen: clen}
		expectErr("sendmsg: "+tc.name, sys6(syscall.SYS_SENDMSG, uintptr(a), uintptr(unsafe.Pointer(&m)), syscall.MSG_DONTWAIT))
	}
	// 254 descriptors: past SCM_MAX_FD.
	many := make([]int, 254)
	if err := sendRights(a, many...); !errors.Is(err, syscall.EINVAL) {
		errs = append(errs, fmt.Sprintf("254 descriptors: %v, want EINVAL", err))
	}
	// A receive that faults after taking a message with descriptors:
	// the descriptors are closed, not leaked.
	for range 200 {
		r, w, _ := os.Pipe()
		if err := sendRights(a, int(w.Fd())); err != nil {
			return fmt.Errorf("send a descriptor: %w", err)
		}
		w.Close()
		guard, _ := syscall.Mmap(-1, 0, 4096, syscall.PROT_NONE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		badIov := []iovec{{ptr(guard), 1}}
		oob := make([]byte, 64)
		m := msghdr{iov: uintptr(unsafe.Pointer(&badIov[0])), iovlen: 1, control: ptr(oob), controllen: 64}
		sys6(syscall.SYS_RECVMSG, uintptr(b), uintptr(unsafe.Pointer(&m)), syscall.MSG_DONTWAIT)
		syscall.Munmap(guard)
		// Whatever the receive did, the pipe's write end must not live
		// on in the kernel: a read ends.
		rfd := int(r.Fd())
		syscall.SetNonblock(rfd, false)
		done := make(chan struct{})
		go func() {
			buf := make([]byte, 1)
			syscall.Read(rfd, buf)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			return errors.New("a faulting recvmsg left the passed descriptor alive and unreported")
		}
		r.Close()
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return inFlightIntact()
}

// inFlightIntact checks that this process's count of descriptors in
// flight is back to zero: it can pass the full RLIMIT_NOFILE again, and
// not one more (ETOOMANYREFS). A leak of the count would refuse early.
func inFlightIntact() error {
	a, b, err := unixPair(syscall.SOCK_DGRAM)
	if err != nil {
		return err
	}
	defer syscall.Close(b)
	defer syscall.Close(a)
	fd, err := syscall.Open("/", syscall.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	syscall.SetsockoptInt(a, syscall.SOL_SOCKET, syscall.SO_SNDBUF, 1<<20)
	batch := make([]int, 250)
	for i := range batch {
		batch[i] = fd
	}
	sent := 0
	for {
		err := sendRights(a, batch...)
		if errors.Is(err, syscall.ETOOMANYREFS) {
			break
		}
		if err != nil {
			return fmt.Errorf("after %d in flight: %w", sent, err)
		}
		sent += len(batch)
		if sent > 4096 {
			return errors.New("no limit on descriptors in flight")
		}
	}
	var rl syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	if uint64(sent) > rl.Cur || uint64(sent)+uint64(len(batch)) <= rl.Cur {
		return fmt.Errorf("%d descriptors went in flight before ETOOMANYREFS; RLIMIT_NOFILE is %d", sent, rl.Cur)
	}
	return nil
}

// testUnixCycles: each socket of a pair passed over the other, both
// closed, 2000 times. A cycle that formed would never be freed; the
// kernel refuses the second send (ETOOMANYREFS), so each pair is freed
// and the in-flight count stays whole.
func testUnixCycles() error {
	refused := 0
	for i := range 2000 {
		a, b, err := unixPair(syscall.SOCK_STREAM)
		if err != nil {
			return fmt.Errorf("pair %d: %w", i, err)
		}
		if err := sendRights(a, a); err != nil { // a in b's queue
			return fmt.Errorf("a over itself: %w", err)
		}
		if err := sendRights(b, b); errors.Is(err, syscall.ETOOMANYREFS) {
			refused++
		} else if err != nil {
			return fmt.Errorf("b over itself: %w", err)
		}
		if err := sendRights(a, b); !errors.Is(err, syscall.ETOOMANYREFS) {
			return fmt.Errorf("b into its own queue: %v, want ETOOMANYREFS", err)
		}
		syscall.Close(a)
		syscall.Close(b)
	}
	if refused != 2000 {
		return fmt.Errorf("%d of 2000 cycles refused", refused)
	}
	return inFlightIntact()
}

// testUnixFDFlood: descriptors in flight are bounded by RLIMIT_NOFILE
// (ETOOMANYREFS), freed when the receiving socket closes unread.
func testUnixFDFlood() error {
	for range 5 {
		if err := inFlightIntact(); err != nil {
			return err
		}
	}
	return nil
}

// unixHoarders are processes that fill socket pairs nobody reads.
const (
	unixHoarders   = 4
	unixQuotaKiB   = 16 << 10 // a process's sockets in all (unixsock.Quota)
	unixMinPerSock = 5        // KiB a socket may always hold (unixsock.minBuffered)
)

func testUnixByteFlood() error {
	var cmds []*exec.Cmd
	var outs []*strings.Builder
	for range unixHoarders {
		cmd := exec.Command(self(), "role", "unix-hoarder")
		out := &strings.Builder{}
		cmd.Stdout = out
		if err := cmd.Start(); err != nil {
			return err
		}
		cmds = append(cmds, cmd)
		outs = append(outs, out)
	}
	var report []string
	for i, cmd := range cmds {
		if err := waitWithin(cmd, generous); err != nil {
			return fmt.Errorf("hoarder %d: %v (it said %q)", i, err, outs[i].String())
		}
		said := strings.TrimSpace(outs[i].String())
		var socks, kib int
		if _, err := fmt.Sscanf(said, "%d sockets, %d KiB", &socks, &kib); err != nil {
			return fmt.Errorf("hoarder %d said %q", i, said)
		}
		if limit := unixQuotaKiB + 416 + unixMinPerSock*socks; kib > limit {
			return fmt.Errorf("hoarder %d held %d KiB in %d sockets, beyond the %d KiB quota", i, kib, socks, unixQuotaKiB)
		}
		report = append(report, said)
	}
	fmt.Printf("attacks: unix-byte-flood: %s\n", strings.Join(report, "; "))
	// All of it is back: a fresh pair takes a full buffer.
	a, b, err := unixPair(syscall.SOCK_STREAM)
	if err != nil {
		return err
	}
	defer syscall.Close(a)
	defer syscall.Close(b)
	syscall.SetNonblock(a, true)
	n, err := syscall.Write(a, make([]byte, 100<<10))
	if err != nil || n < 100<<10 {
		return fmt.Errorf("after the hoarders: a write of 100 KiB took %d, %v", n, err)
	}
	return nil
}

// roleUnixHoarder opens socket pairs until its descriptors run out and
// fills each with nonblocking writes nobody reads; it reports how many
// bytes the kernel took.
func roleUnixHoarder([]string) int {
	total, socks := 0, 0
	buf := make([]byte, 64<<10)
	for {
		a, b, err := unixPair(syscall.SOCK_STREAM)
		if err != nil {
			break
		}
		_ = b
		syscall.SetsockoptInt(a, syscall.SOL_SOCKET, syscall.SO_SNDBUF, 1<<20)
		syscall.SetNonblock(a, true)
		socks++
		for {
			n, err := syscall.Write(a, buf)
			if n > 0 {
				total += n
			}
			if err != nil || n <= 0 {
				break
			}
		}
	}
	fmt.Printf("%d sockets, %d KiB\n", socks, total>>10)
	return 0
}

// testUnixCloseUnderCall: a read blocked on a socket ends (EOF) when
// its peer closes; a write blocked on a full buffer ends (EPIPE).
func testUnixCloseUnderCall() error {
	for range 50 {
		a, b, err := unixPair(syscall.SOCK_STREAM)
		if err != nil {
			return err
		}
		got := make(chan error, 2)
		go func() {
			buf := make([]byte, 10)
			n, err := syscall.Read(a, buf)
			if n != 0 || err != nil {
				err = fmt.Errorf("read: %d, %v; want end of file", n, err)
			}
			got <- err
		}()
		c, d, err := unixPair(syscall.SOCK_STREAM)
		if err != nil {
			return err
		}
		go func() {
			// A write cut short returns what it sent, as Linux's; the
			// next one finds the pipe broken.
			big := make([]byte, 4<<20)
			var err error
			for range 100 {
				if _, err = syscall.SendmsgN(c, big, nil, nil, syscall.MSG_NOSIGNAL); err != nil {
					break
				}
			}
			if !errors.Is(err, syscall.EPIPE) {
				err = fmt.Errorf("write: %v; want EPIPE", err)
			} else {
				err = nil
			}
			got <- err
		}()
		time.Sleep(5 * time.Millisecond)
		syscall.Close(b)
		syscall.Close(d)
		for range 2 {
			select {
			case err := <-got:
				if err != nil {
					return err
				}
			case <-time.After(20 * time.Second):
				return errors.New("a call blocked on a socket outlived its peer")
			}
		}
		syscall.Close(a)
		syscall.Close(c)
	}
	return nil
}

// testUnixRaces: threads send bytes and descriptors on one pair while
// others receive and close what arrives, and others close and reopen
// pairs under them; then everything must be back (inFlightIntact).
func testUnixRaces() error {
	a, b, err := unixPair(syscall.SOCK_DGRAM)
	if err != nil {
		return err
	}
	syscall.SetNonblock(a, true)
	syscall.SetNonblock(b, true)
	var wg sync.WaitGroup
	stop := time.Now().Add(3 * time.Second)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			oob := make([]byte, 256)
			buf := make([]byte, 64)
			for time.Now().Before(stop) {
				switch w % 4 {
				case 0, 1:
					sendRights(a, 0, 1, 2)
				case 2:
					_, oobn, _, _, err := syscall.Recvmsg(b, buf, oob, syscall.MSG_DONTWAIT)
					if err == nil {
						if msgs, _ := syscall.ParseSocketControlMessage(oob[:oobn]); len(msgs) > 0 {
							if fds, _ := syscall.ParseUnixRights(&msgs[0]); len(fds) > 0 {
								for _, fd := range fds {
									syscall.Close(fd)
								}
							}
						}
					}
				case 3:
					x, y, err := unixPair(syscall.SOCK_STREAM)
					if err == nil {
						sendRights(x, 0)
						syscall.Close(x)
						syscall.Close(y)
					}
				}
			}
		}()
	}
	wg.Wait()
	syscall.Close(a)
	syscall.Close(b)
	return inFlightIntact()
}
