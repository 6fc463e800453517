package main

import (
	"fmt"
	"net/netip"
	"os"
	"time"

	"golang.org/x/sys/unix"
	"valence.dev/userland/internal/linuxguest"
)

// The Linux side, with netbench as /init of tools/bench's initramfs:
// devtmpfs, sysfs and proc mounted, the virtio-net modules in
// /lib/modules/order loaded, and the NIC (the first interface other than
// lo) and lo brought up, the NIC with the address given. No route is
// set: the host (QEMU's 10.0.2.2, or the TAP's end) is on the subnet.

const (
	moduleDir = "/lib/modules"
	waitLimit = 120 * time.Second
)

// prepareLinux makes the initramfs usable and configures the network.
func prepareLinux(addr string) error {
	prefix, err := netip.ParsePrefix(addr)
	if err != nil || !prefix.Addr().Is4() {
		return fmt.Errorf("-addr %q is not an IPv4 address with a prefix length", addr)
	}
	if err := linuxguest.MountPseudo(); err != nil {
		return err
	}
	err = linuxguest.LoadModules(moduleDir, func(name string, err error) error {
		return fmt.Errorf("loading %s: %w", name, err)
	})
	if err != nil {
		return err
	}
	nic, err := waitInterface(time.Now().Add(waitLimit))
	if err != nil {
		return err
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := setUp(fd, "lo"); err != nil {
		return err
	}
	mask := netip.AddrFrom4([4]byte(net4Mask(prefix.Bits())))
	for _, s := range []struct {
		req  uint
		addr netip.Addr
		what string
	}{
		{unix.SIOCSIFADDR, prefix.Addr(), "address"},
		{unix.SIOCSIFNETMASK, mask, "netmask"},
	} {
		ifr, err := unix.NewIfreq(nic)
		if err != nil {
			return err
		}
		a := s.addr.As4()
		if err := ifr.SetInet4Addr(a[:]); err != nil {
			return err
		}
		if err := unix.IoctlIfreq(fd, s.req, ifr); err != nil {
			return fmt.Errorf("%s %s of %s: %w", s.what, s.addr, nic, err)
		}
	}
	if err := setUp(fd, nic); err != nil {
		return err
	}
	fmt.Printf("netbench: %s %s up\n", nic, prefix)
	return nil
}

// waitInterface returns the first interface other than lo, once the
// driver has registered one.
func waitInterface(deadline time.Time) (string, error) {
	for {
		des, _ := os.ReadDir("/sys/class/net")
		for _, d := range des {
			if d.Name() != "lo" {
				return d.Name(), nil
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no network interface within %v", waitLimit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// setUp sets IFF_UP on the interface name.
func setUp(fd int, name string) error {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("flags of %s: %w", name, err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bringing %s up: %w", name, err)
	}
	return nil
}

// net4Mask is the netmask of a prefix length (0 to 32).
func net4Mask(bits int) []byte {
	m := uint32(0xffffffff) << (32 - bits) // a shift by 32 is 0 in Go
	return []byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}
}

// finish ends the program; as a Linux guest's init it powers off.
func finish(code int) {
	if os.Getpid() == 1 && sysname() == "linux" {
		unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
		time.Sleep(time.Hour)
	}
	os.Exit(code)
}
