// Package manifest reads init's service manifest, /etc/init.toml: the
// servers and drivers pid 1 starts, what each is given, in which order,
// and what happens when one ends or stops answering (docs/init.md).
//
// # Format
//
// One TOML table per service, [service.NAME]:
//
//	[service.netd]
//	program = "/bin/netd"             # absolute; required
//	args = ["-dhcp-timeout", "60s"]   # optional
//	caps = ["driver:net0", "register"] # its initial handles, in order
//	serves = "net"                    # what it registers: see below
//	depends = ["pcid", "fsd"]         # started once these have settled
//	restart = "always"                # always | on-failure | never
//	backoff = { initial = "250ms", max = "4s" }
//	max-restarts = 5                  # within window; then left stopped
//	window = "1m"
//	start-timeout = "20s"             # spawn to registration
//	stop-timeout = "10s"              # SIGTERM to SIGKILL
//	heartbeat = "5s"                  # a liveness call this often...
//	timeout = "30s"                   # ...answered within this
//	essential = true                  # spared by the out-of-memory killer
//
//	[service.console]
//	program = "/bin/sh"
//	console = true                    # on the console; its exit powers off
//	restart = "never"
//	depends = ["fsd", "netd"]
//
// Durations are strings in Go's syntax ("250ms", "1m"); a bare number is
// refused (it would silently mean nanoseconds). Unknown keys are
// refused, so that a misspelt key is an error rather than a default.
//
// # Capability kinds
//
// caps is a closed set, each kind something init knows how to make; the
// handles are given in the order listed (libos.InitialHandles):
//
//	device-root    a copy of the root device capability (pcid)
//	register       the endpoint the service calls once it serves, with a
//	               client capability on its own endpoint (label 1, one
//	               handle); required exactly when serves is set
//	root-disk      a client capability on the driver of the root disk,
//	               chosen by root= among the disks pcid's drivers
//	               registered
//	driver:NAME    a client capability on the driver registered as NAME
//	               with pcid ("net0"); the service is skipped when no
//	               driver registered NAME
//	service:NAME   a copy of what service NAME registered
//
// root-disk and driver:NAME need a dependency, direct or not, on the
// service that serves devreg; service:NAME needs NAME among depends.
//
// # What a service serves
//
// serves names the protocol of the capability the service registers,
// which says both what init does with it and how init checks that the
// service is alive (the heartbeat's liveness call):
//
//	devreg   pcid's registry: drivers are looked up in it and listed by
//	         svc; liveness: List
//	rootfs   the file protocol of the root disk: mounted at "/" (and, on a
//	         restart, given to the existing mount); liveness: Statfs
//	net      the socket protocol: made the kernel's network server;
//	         liveness: Status
//	echo     the rpc layer's echo protocol (valence.dev/ipc/rpc/echoproto),
//	         for services that serve nothing else init knows; liveness:
//	         Echo
//
// At most one service serves each of devreg, rootfs and net.
//
// # Validation
//
// Parse refuses a manifest with a TOML error (its line, from the TOML
// library), an unknown key, a value out of range (its line too: values
// are checked as they are decoded), and then the cross-service rules: a
// dependency on an unknown service or on itself, a dependency cycle (the
// error spells the cycle: "a -> b -> a"), capability rules above, more
// than one console, a console with capabilities, a protocol or a restart
// policy other than never, a heartbeat on a service that serves nothing.
// Every limit is bounded (names, arguments, capabilities, services), so a
// hostile manifest costs little to refuse (FuzzManifest).
//
// # Order
//
// Order gives a dependency order (dependencies first, ties by name), the
// order of a sequential boot and, reversed, of shutdown. Ready says which
// services may start once some have settled (started, failed or
// skipped), which is how init starts independent services in parallel.
package manifest
