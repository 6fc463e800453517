// Command netbench is the guest end of the network rows of make bench:
// a set of small TCP servers that tools/bench drives from the host, the
// same static binary in Valence and in a Linux guest. In Valence it runs
// as init's console program once /bin/init has started netd on the NIC (which netd
// configures by DHCP), so the network is up when it starts. As a Linux
// guest's /init it first loads the virtio-net modules listed in
// /lib/modules/order, waits for the interface to appear and gives it
// -addr (default 10.0.2.15/24, the address QEMU's user network expects)
// with ioctls, as there is no ip command in the initramfs.
//
// The servers, each on its own port so that QEMU's user network can
// forward each one from a host port:
//
//	5201  sink: reads until EOF, and every 100 ms (and at the end)
//	      writes the bytes read so far as a decimal line; the host
//	      times these reports, so what it measures is what the guest
//	      received, not what the host's buffers took
//	5202  source: writes a pattern until the peer goes away
//	5203  connect: writes one byte and closes, so that the host sees a
//	      connection only once the guest has accepted it (QEMU's user
//	      network accepts the host's connection before the guest does)
//	8080  HTTP: GET / answers a fixed 64-byte body; GET /quit answers
//	      and ends netbench
//
// The host bounds every measurement by time (the guests run under TCG
// and Valence's sockets are slow), and netbench bounds its own life by
// -limit, so a host that goes away cannot leave a guest running: at the
// end it prints "netbench: done" and exits, which in Valence shuts the
// machine down through init and in Linux is a power-off.
//
// tools/bench (net.go) has the host side and duplicates the ports and the
// HTTP body; its hosted tests run its drivers against a server of the
// same protocol.
package main
