package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"valence.dev/ipc"
	"valence.dev/libos"
)

// netd, and then the NIC driver under it, killed in the middle of a
// transfer: the program's sockets fail with a clear error (ECONNRESET,
// EPIPE or ENETDOWN), never hang; new sockets say ENETDOWN while no netd is
// registered; a netd started again and registered serves new
// connections. When virtio-netd dies, netd ends (its device is gone) and
// pcid restarts the driver; a netd started on the new driver gets a DHCP
// lease again. This is what init does for a system (it restarts
// netd); here drvtests, the first process, does it by hand so that it
// can kill the servers.

func init() { addTest("netd-restart", testNetdRestart) }

const virtioVendor, virtioNetDevice = 0x1af4, 0x1041

// netd is a running netd.
type netd struct {
	proc ipc.Handle
	pid  int
}

// startNetd starts /bin/netd on net0, waits for it to register (DHCP
// done) and makes it the kernel's network server.
func startNetd(ctx context.Context) (*netd, error) {
	nic, err := lookup(ctx, "net0")
	if err != nil {
		return nil, err
	}
	defer libos.Close(nic)
	reg, err := libos.NewEndpoint()
	if err != nil {
		return nil, err
	}
	defer libos.Close(reg)
	regCopy, err := libos.Dup(reg, ipc.RightWrite|ipc.RightGrant, 0)
	if err != nil {
		return nil, err
	}
	died, err := libos.NewNotification()
	if err != nil {
		return nil, err
	}
	defer libos.Close(died)
	if err := libos.NotifyBind(died, reg); err != nil {
		return nil, err
	}
	p, pid, err := libos.ProcSpawn("/bin/netd", []string{"netd", "-dhcp-timeout", "60s"}, []string{"PATH=/bin"}, []ipc.Handle{nic, regCopy})
	libos.Close(regCopy)
	if err != nil {
		return nil, err
	}
	libos.ProcNotify(p, died, 1)
	var m, rep ipc.Message
	tok, err := libos.Recv(reg, &m)
	if err != nil {
		return nil, err
	}
	if m.Flags == ipc.MsgNotification || m.NHandles != 1 {
		st, _ := libos.ProcWait(p)
		return nil, fmt.Errorf("netd ended before registering (wait status %#x)", uint32(st))
	}
	libos.Reply(reg, tok, &rep)
	defer libos.Close(m.Handles[0])
	if err := libos.SetNetServer(m.Handles[0]); err != nil {
		libos.ProcKill(p, syscall.SIGKILL)
		libos.ProcWait(p)
		return nil, fmt.Errorf("registering netd with the kernel: %w", err)
	}
	return &netd{proc: p, pid: pid}, nil
}

// waitEnded waits (at most generous) for netd to end.
func (d *netd) waitEnded() error {
	done := make(chan struct{})
	go func() { libos.ProcWait(d.proc); close(done) }()
	select {
	case <-done:
		libos.Close(d.proc)
		return nil
	case <-time.After(generous):
		return fmt.Errorf("netd (pid %d) did not end within %v", d.pid, generous)
	}
}

// sink is a loopback TCP server that reads and discards.
func sink() (net.Listener, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	return l, nil
}

// send writes to a connection to addr until it fails or limit bytes are
// sent, counting in sent; it returns the error (nil: limit reached).
func send(addr string, limit int64, sent *atomic.Int64) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	b := make([]byte, 64<<10)
	for sent.Load() < limit {
		n, err := c.Write(b)
		sent.Add(int64(n))
		if err != nil {
			return err
		}
	}
	return nil
}

// killMidTransfer kills pid once a transfer to a new sink is under way,
// and checks that the transfer then fails with a connection error within
// generous, rather than hanging or finishing. after runs once pid is
// killed and before the transfer's end is awaited.
func killMidTransfer(what string, pid int, after func() error) error {
	l, err := sink()
	if err != nil {
		return fmt.Errorf("before killing %s: %w", what, err)
	}
	defer l.Close()
	var sent atomic.Int64
	done := make(chan error, 1)
	go func() { done <- send(l.Addr().String(), 1<<40, &sent) }()
	deadline := time.Now().Add(generous)
	for sent.Load() < 1<<20 {
		select {
		case err := <-done:
			return fmt.Errorf("the transfer before killing %s: %v", what, err)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("1 MiB not sent within %v before killing %s", generous, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("killing %s (pid %d): %v", what, pid, err)
	}
	if err := after(); err != nil {
		return err
	}
	select {
	case err := <-done:
		// ECONNRESET or EPIPE when netd is gone; ENETDOWN when netd,
		// its device gone, answers that while it shuts down.
		if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ENETDOWN) {
			return fmt.Errorf("the transfer after %s died ended with %v, want ECONNRESET, EPIPE or ENETDOWN", what, err)
		}
		fmt.Printf("drvtests: netd-restart: %s killed after %d MiB sent; the sender got %v\n", what, sent.Load()>>20, err)
		return nil
	case <-time.After(generous):
		return fmt.Errorf("the transfer hangs after %s was killed", what)
	}
}

// transferOK sends size bytes over the loopback through the current netd.
func transferOK(size int64) error {
	l, err := sink()
	if err != nil {
		return err
	}
	defer l.Close()
	var sent atomic.Int64
	return send(l.Addr().String(), size, &sent)
}

func testNetdRestart(ctx context.Context) error {
	d, err := startNetd(ctx)
	if err != nil {
		return err
	}
	if err := transferOK(1 << 20); err != nil {
		return fmt.Errorf("through the first netd: %w", err)
	}

	// netd killed: its sockets fail; while none is registered, new
	// sockets are ENETDOWN.
	err = killMidTransfer("netd", d.pid, d.waitEnded)
	if err != nil {
		return err
	}
	if _, err := net.Dial("tcp", "127.0.0.1:9"); !errors.Is(err, syscall.ENETDOWN) {
		return fmt.Errorf("a socket while netd is dead: %v, want ENETDOWN", err)
	}
	if d, err = startNetd(ctx); err != nil {
		return fmt.Errorf("starting netd again: %w", err)
	}
	if err := transferOK(1 << 20); err != nil {
		return fmt.Errorf("through the restarted netd: %w", err)
	}
	fmt.Printf("drvtests: netd-restart: a new netd (pid %d) serves new connections\n", d.pid)

	// virtio-netd killed under netd: netd ends (its device is gone),
	// pcid restarts the driver, and a netd on the new one works.
	f, err := waitFunction(ctx, virtioVendor, virtioNetDevice, "running")
	if err != nil {
		return err
	}
	if err := killMidTransfer("virtio-netd", int(f.PID), d.waitEnded); err != nil {
		return err
	}
	g, err := waitRestarted(ctx, virtioVendor, virtioNetDevice, f.PID)
	if err != nil {
		return err
	}
	if d, err = startNetd(ctx); err != nil {
		return fmt.Errorf("starting netd on the restarted virtio-netd (pid %d): %w", g.PID, err)
	}
	if err := transferOK(1 << 20); err != nil {
		return fmt.Errorf("through netd on the restarted driver: %w", err)
	}
	fmt.Printf("drvtests: netd-restart: virtio-netd restarted by pcid as pid %d; netd (pid %d) on it serves new connections\n", g.PID, d.pid)
	libos.ProcKill(d.proc, syscall.SIGTERM)
	return d.waitEnded()
}
