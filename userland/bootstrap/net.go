package main

import (
	"context"
	"path"
	"syscall"
	"time"

	"valence.dev/ipc"
	"valence.dev/libos"
)

// The network: netd (servers/net/cmd/netd), the TCP/IP stack as a server
// of the socket protocol, runs on the first NIC a driver registered with
// pcid (net0), as fsd runs on the root disk. It registers once its
// interface is configured (DHCP done), so init finds the network up, as
// it finds the root mounted; bootstrap then makes it the kernel's network
// server (libos.SetNetServer), to which AF_INET socket calls go. A netd
// that dies is started again (the same budget as fsd's) and registered
// anew; sockets it had fail, new ones work.

// netWait bounds netd's start, DHCP included (QEMU's user network answers
// at once; TCG makes everything slow).
const netWait = 20 * time.Second

// netBinary is netd's path in the initfs.
const netBinary = "/bin/netd"

// nicName is the NIC netd serves: the first one pcid's drivers register.
const nicName = "net0"

// network is netd while init runs.
type network struct {
	dev     *devices
	program string
	nic     ipc.Handle
	netd    *child // nil once given up
	budget  restartBudget
}

// startNetwork starts netd on net0, if there is such a NIC, and makes it
// the kernel's network server. It says why on the console when it
// cannot; the system runs on without a network.
func startNetwork(ctx context.Context, dev *devices, r *root) *network {
	if dev == nil {
		return nil
	}
	program := netBinary
	if r != nil && r.bootBound {
		program = path.Join(bootDir, netBinary)
	}
	if !exists(program) {
		logf("no network: %s is not in the image", netBinary)
		return nil
	}
	fns, err := dev.registry.List(ctx)
	if err != nil {
		logf("no network: listing pcid's devices: %v", err)
		return nil
	}
	found := false
	for _, f := range fns {
		found = found || f.Name == nicName && f.State == "running"
	}
	if !found {
		return nil // no NIC: nothing to say
	}
	nic, err := dev.lookup(ctx, nicName, time.Now().Add(2*time.Second))
	if err != nil {
		logf("no network: %v", err)
		return nil
	}
	n := &network{dev: dev, program: program, nic: nic}
	c, err := n.start()
	if err != nil {
		logf("no network: netd on %s: %v", nicName, err)
		libos.Close(nic)
		return nil
	}
	n.netd = c
	return n
}

// start starts netd and registers it with the kernel.
func (n *network) start() (*child, error) {
	c, err := startServer(n.program, []string{"netd"}, []string{"PATH=/bin", "HOME=/"},
		[]ipc.Handle{n.nic}, netWait, true)
	if err != nil {
		return nil, err
	}
	if err := libos.SetNetServer(c.client); err != nil {
		c.kill()
		return nil, err
	}
	markEssential(c)
	return c, nil
}

// died brings netd back after it ended (already reaped), and reports
// whether pid was netd.
func (n *network) died(pid int, st syscall.WaitStatus) bool {
	if n == nil || n.netd == nil || n.netd.pid != pid {
		return false
	}
	logf("netd (pid %d) ended: %s", pid, describeStatus(st))
	libos.Close(n.netd.proc)
	n.netd = nil
	for {
		delay, ok := n.budget.next(time.Now())
		if !ok {
			logf("netd restarted %d times within %v; not again: no network until reboot", maxRestarts, restartWindow)
			return true
		}
		logf("restarting netd on %s in %v", nicName, delay)
		time.Sleep(delay)
		// The driver may have died with it: look the NIC up again.
		if h, err := n.dev.lookup(context.Background(), nicName, time.Now().Add(netWait)); err == nil {
			libos.Close(n.nic)
			n.nic = h
		}
		c, err := n.start()
		if err != nil {
			logf("netd not restarted: %v", err)
			continue
		}
		n.netd = c
		logf("netd restarted (pid %d)", c.pid)
		return true
	}
}

// stop ends netd at power-off.
func (n *network) stop() {
	if n == nil || n.netd == nil {
		return
	}
	n.netd.stop(fsdStopWait)
	n.netd = nil
}
