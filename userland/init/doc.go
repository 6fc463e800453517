// Command init is Valence's first process and its supervisor: it starts
// the services of its manifest, /etc/init.toml (the PCI manager and its
// drivers, the root disk's filesystem server, the network server), in
// dependency order, mounts the root disk, runs the console program, and
// keeps the services running for as long as the console program runs:
// a service that dies is restarted by its policy, one that stops
// answering is found by heartbeats, killed and restarted, and svc lists
// and controls them all (docs/init.md).
//
// # Contract with the kernel
//
// With root= naming a disk on its command line, the kernel starts
// /bin/init from the initfs as pid 1 with
//
//	argv  "/bin/init", the console program, its arguments...
//	env   the console program's environment, plus VALENCE_DEVICE_ROOT
//	      (the root device capability's handle, docs/drivers.md)
//
// The console program is init= from the kernel's command line, and
// /bin/sh without one (the kernel runs its console monitor instead when
// the initfs has no /bin/sh: microkernel/main.go). Without a program
// (init=/bin/init, which the kernel then starts directly), the
// manifest's console service is run. The variable root (the kernel passes
// root=... into the first process's environment) chooses the disk:
// root=NAME (or root=/dev/NAME) exactly that pcid name; unset, nvme0 and
// then vda; root=initfs no disk and no devices at all. The console
// program gets the environment less VALENCE_DEVICE_ROOT and
// VALENCE_HANDLES, which name nothing in its handle table, and init's
// descriptors 0-2 (the console). When init exits the kernel powers off;
// it exits with the console program's exit status, or 128+n if signal n
// killed it. Every end-to-end test relies on this: a test program run as
// init= ends QEMU with its status.
//
// # Boot
//
//  1. The manifest is read from the initfs (manifest.Parse). A missing,
//     unreadable or malformed one is refused with its reason (a TOML
//     error names the line) and the built-in manifest, the same as the
//     image's (pcid, fsd, netd, the console), is used; the console says
//     so.
//  2. The services start as soon as everything they depend on has
//     settled (started, failed or been skipped), so independent ones
//     start in parallel (manifest.Ready). A start makes the service's
//     capabilities (start.go: makeCaps), spawns its program from the
//     initfs (paths.go), waits up to its start-timeout for it to register
//     (child.go), and puts what it registered to use (protocols.go):
//     pcid's registry is where drivers are found; the root fsd is
//     mounted at "/", after the mount points /boot, /dev, /proc and /tmp
//     (01777) are made on the disk through fsd itself and the initfs is
//     bound at /boot; netd becomes the kernel's network server. A disk
//     without a filesystem is never formatted behind the user's back.
//  3. A service whose first start fails stays failed, with its reason;
//     the system boots on without it. The root disk's failure leaves the
//     initfs as the root. A service whose capability has nothing behind
//     it is skipped: netd without a NIC (no driver registered net0),
//     everything device-bound with root=initfs.
//  4. Once every service has settled: every disk registered with pcid
//     becomes a device file in /dev (blockdevs.go, names.go), init
//     serves the mount protocol and becomes the kernel's mounter
//     (mounter.go: mount(2) of a valfs disk starts an fsd on it), and
//     the console program is spawned on the console, from the root disk
//     or, if the disk lacks it, from the initfs at /boot.
//
// # Supervision
//
// One goroutine, the loop (supervisor.go), owns every service's state
// and changes it in answer to events; starts, stops, waits and
// heartbeats run in goroutines of their own and report back. Each
// service process is watched through its process handle (ProcWait);
// a reaper collects every child's zombie (console.go) and reports the
// console program's end. When a service's process ends:
//
//   - stopped on purpose (svc stop or restart): it stays stopped, or is
//     started again for restart;
//   - otherwise its restart policy decides (budget.go: decide): always,
//     on-failure (not after exit status 0) or never; at most max-restarts
//     restarts within window, each after a delay doubling from the
//     backoff's initial value up to its max.
//
// One console line says what happened and what follows:
//
//	init: netd (pid 40) killed by SIGKILL; restart 2 in 500ms
//	init: fsd (pid 12) exit status 1; restarted 5 times within 1m0s; not again: files on / fail until reboot
//
// A restarted root fsd is given to the existing mount (MountReplace), so
// every process's "/" reaches it; a restarted netd replaces the dead one
// as the network server (sockets of the old one fail, new ones work). A
// restart whose start fails counts as one more end.
//
// Heartbeats (heartbeat.go): every heartbeat interval a running service
// gets its protocol's liveness call (pcid: List; fsd: Statfs; netd:
// Status; an echo service: Echo); no answer within timeout, and init
// kills it with SIGKILL and says why; the restart policy takes it from
// there.
//
// Drivers are pcid's children and pcid restarts them; init shows them
// (drivers.go) from pcid's List: svc lists each with its pid, state,
// restarts (pid changes seen) and last exit, after pcid.
//
// # Control
//
// init listens on an abstract AF_UNIX stream socket (ctlserver.go) for
// svc (userland/svc), speaking valence.dev/userland/init/control: list,
// start, stop, restart, kill, log. Any process may connect; requests are
// bounded and decoded defensively, and the operations that change a
// service need uid 0 (SO_PEERCRED). Each service keeps its recent lines
// (ring.go): its own output, which init relays to the console (its
// descriptors 1 and 2 are a pipe: tap.go), and init's events about it.
//
// # Shutdown
//
// When the console program ends, the services stop in reverse dependency
// order, each with SIGTERM and, after its stop-timeout, SIGKILL; before
// the root's fsd, sync(2) runs and the disks mount(2) mounted are
// unmounted (their fsds commit and exit). Nothing is restarted then.
// init exits with the console program's status.
//
// # Console
//
// Every line init writes starts with "init: " and is one write:
//
//	init: manifest refused: /etc/init.toml: toml: line 7 (last key "service.fsd.restart"): restart policy "sometimes" is not always, on-failure or never
//	init: using the built-in manifest: [pcid fsd netd console]
//	init: root is nvme0 (valfs), the initfs is at /boot
//	init: root disk nvme0 not mounted: QEMU NVMe Ctrl: no valid Valence filesystem superblock (fsd exit status 1); the initfs stays the root
//	init: root=initfs: the initfs stays the root
//	init: /tmp on nvme0 had mode 0755; setting 01777
//	init: disk files: [/dev/nvme0n1 /dev/vda]
//	init: /bin/sh is not on the root disk; running /boot/bin/sh from the initfs
//	init: netd (pid 40) killed by SIGKILL; restart 1 in 250ms
//	init: netd restarted (pid 44)
//	init: fsd restarted on nvme0 (pid 14); / is served again
//	init: hangd (pid 31) missed its heartbeat: no answer to Echo within 5s; killing it
//	init: hangd (pid 31) killed by SIGKILL (missed its heartbeat); restart 1 in 250ms
//	init: hangd started by svc (pid 52)
//	init: pcid (pid 2) killed by SIGKILL; restart policy never: drivers are no longer restarted
//	init: no network: netd: netd did not start serving within 20s; killed
//	init: /dev/vda (valfs) served by fsd (pid 31) for mount(2)
//	init: /bin/svctests (pid 5) ended: exit status 0; exiting with status 0
//
// # Testing
//
// Hosted: the manifest's parsing, validation and order
// (manifest/*_test.go, FuzzManifest), the control protocol
// (control/*_test.go, FuzzRequest, FuzzReply), restart decisions
// (budget_test.go), the driver view, logs, the control server's answers
// to hostile frames and the credentials rule (ctlserver_test.go), and the
// older decisions (names, root=, init's environment, exit codes,
// pickDisk, fixFor, the stderr reason). In QEMU, TestInit runs
// userland/svctests as the console program with an extra service that
// hangs on command; every test booting with root= goes through init.
package main
