//go:build linux

package interop

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Namespace is a network namespace created for a test.
type Namespace struct {
	Name string
}

var nsCounter atomic.Int64

// UniqueName returns a name unique to this process and call, short enough
// for an interface name (15 bytes).
func UniqueName(prefix string) string {
	return fmt.Sprintf("%s%d%c", prefix, os.Getpid()%100000, 'a'+rune(nsCounter.Add(1)%26))
}

// NewNamespace creates a namespace with its loopback up.
func NewNamespace(name string) (*Namespace, error) {
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ip netns add %s: %v: %s", name, err, out)
	}
	ns := &Namespace{Name: name}
	if err := ns.IP("link", "set", "lo", "up"); err != nil {
		ns.Delete()
		return nil, err
	}
	return ns, nil
}

// IP runs `ip -n NAME args...`.
func (ns *Namespace) IP(args ...string) error {
	out, err := exec.Command("ip", append([]string{"-n", ns.Name}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip -n %s %v: %v: %s", ns.Name, args, err, bytes.TrimSpace(out))
	}
	return nil
}

// Exec runs a command inside the namespace and returns its output.
func (ns *Namespace) Exec(name string, args ...string) ([]byte, error) {
	return exec.Command("ip", append([]string{"netns", "exec", ns.Name, name}, args...)...).CombinedOutput()
}

// Delete removes the namespace and every interface in it.
func (ns *Namespace) Delete() error {
	out, err := exec.Command("ip", "netns", "del", ns.Name).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip netns del %s: %v: %s", ns.Name, err, out)
	}
	return nil
}

// Do runs fn on an OS thread that is inside the namespace. Sockets and
// devices that fn creates belong to the namespace.
func (ns *Namespace) Do(fn func() error) error {
	target, err := os.Open("/var/run/netns/" + ns.Name)
	if err != nil {
		return err
	}
	defer target.Close()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open(fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("setns %s: %w", ns.Name, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			// Leave the thread locked: it dies with this goroutine rather
			// than return to the scheduler in the wrong namespace.
			errc <- errors.Join(ferr, fmt.Errorf("setns back: %w", err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// Prerequisites reports why the interop tests cannot run here, or nil.
// It installs iproute2 with apt-get if ip is missing.
func Prerequisites() error {
	if os.Geteuid() != 0 {
		return errors.New("interop tests need root (network namespaces, TAP devices)")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return fmt.Errorf("interop tests need /dev/net/tun: %w", err)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		if err := AptInstall("iproute2"); err != nil {
			return fmt.Errorf("interop tests need iproute2's ip, and installing it failed: %w", err)
		}
	}
	return nil
}

// AptInstall installs Debian packages.
func AptInstall(pkgs ...string) error {
	if _, err := exec.LookPath("apt-get"); err != nil {
		return errors.New("no apt-get")
	}
	if out, err := exec.Command("apt-get", "update", "-qq").CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get update: %v: %s", err, out)
	}
	args := append([]string{"install", "-y", "-qq", "--no-install-recommends"}, pkgs...)
	cmd := exec.Command("apt-get", args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get install %v: %v: %s", pkgs, err, out)
	}
	return nil
}
