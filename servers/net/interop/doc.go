// Package interop tests the stack against the Linux kernel's TCP/IP stack.
//
// Each test builds its own world and tears it down: a fresh network
// namespace with a unique name, a TAP device created inside it, and the
// Linux end of that TAP configured with an address from 198.18.0.0/15 (the
// range RFC 2544 reserves for benchmarking). The stack runs in the test
// process on the TAP's file descriptor with the neighbouring address, and
// Linux sockets talk to it from inside the namespace. No traffic leaves the
// namespace: it has no other interface and no route out.
//
// Linux sockets are created inside the namespace without a helper process:
// InNamespace locks the goroutine to its OS thread, switches that thread
// into the namespace with setns(2), runs a function (a socket belongs to
// the namespace it was created in, whichever thread uses it later), and
// switches back. The TAP device is opened the same way, so it is born in
// the namespace.
//
// The tests need root, /dev/net/tun and iproute2's ip command. Missing
// prerequisites skip the tests with a message, except under CI=true, where
// they fail: CI must not pass by testing nothing. ip is installed with
// apt-get when it is missing.
package interop
