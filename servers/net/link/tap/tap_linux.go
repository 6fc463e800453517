//go:build linux

package tap

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Device is an open TAP interface.
type Device struct {
	name string
	mtu  int
	f    *os.File
}

// Open attaches to the TAP interface name, creating it if it does not exist
// (a created interface disappears when the device is closed), and brings it
// up. mtu is the payload size the stack will use; it should match the
// interface's MTU on the Linux side.
func Open(name string, mtu int) (*Device, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("tap: open /dev/net/tun: %w", err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("tap: interface name %q: %w", name, err)
	}
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("tap: TUNSETIFF %s: %w", name, err)
	}
	if err := setUp(name); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &Device{name: name, mtu: mtu, f: os.NewFile(uintptr(fd), "/dev/net/tun:"+name)}, nil
}

// setUp sets IFF_UP on the interface, as `ip link set NAME up` would.
func setUp(name string) error {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("tap: socket: %w", err)
	}
	defer unix.Close(s)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(s, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("tap: get flags of %s: %w", name, err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(s, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("tap: set %s up: %w", name, err)
	}
	return nil
}

// Name returns the interface name.
func (d *Device) Name() string { return d.name }

// MTU implements link.Endpoint.
func (d *Device) MTU() int { return d.mtu }

// WriteFrame implements link.Endpoint.
func (d *Device) WriteFrame(frame []byte) error {
	_, err := d.f.Write(frame)
	return err
}

// ReadFrame implements link.Device.
func (d *Device) ReadFrame(b []byte) (int, error) { return d.f.Read(b) }

// Close implements link.Device.
func (d *Device) Close() error { return d.f.Close() }
