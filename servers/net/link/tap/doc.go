// Package tap opens a Linux TAP device as a link.Device, so the stack can
// run on the host and exchange Ethernet frames with the Linux kernel.
//
// A TAP device is the kernel's side of a virtual Ethernet cable: what Linux
// routes out of the interface can be read from /dev/net/tun, and what is
// written there arrives at the interface as if received from the wire. The
// stack is therefore a separate host on that cable, with its own MAC and IP
// address; the Linux interface has its own (see docs/net.md).
//
// Open attaches to the device with the TUNSETIFF ioctl (Linux
// Documentation/networking/tuntap.rst) using IFF_TAP|IFF_NO_PI, so each read
// returns exactly one frame with no packet-information prefix, and sets the
// interface up. The descriptor is non-blocking and registered with Go's
// poller, so a goroutine blocked in ReadFrame does not hold a thread and is
// woken by Close.
package tap
