// Command bootstrap is Valence's first process: it makes the root disk
// the root filesystem and then runs init, as the /init of a Linux
// initramfs does, and stays behind to keep the disk served.
//
// # Contract with the kernel
//
// The kernel starts /bin/bootstrap from the initfs as pid 1 with
//
//	argv  "/bin/bootstrap", the init path, init's arguments...
//	env   init's environment, plus VALENCE_DEVICE_ROOT (the root device
//	      capability's handle, docs/drivers.md)
//
// The kernel does so when its command line has root= (other than
// root=initfs) and the initfs has /bin/bootstrap; otherwise it starts
// init itself. With no init path, /bin/init is run. The variable root
// (the kernel passes the word root=... into the first process's
// environment like any NAME=value word) chooses the disk: root=NAME (or
// root=/dev/NAME) exactly that pcid name; unset, nvme0 and then vda (the
// names nvmed and virtio-blkd register with pcid); root=initfs no disk
// at all (pcid is not started either). Init
// gets the environment less VALENCE_DEVICE_ROOT and VALENCE_HANDLES,
// which name nothing in its handle table, and bootstrap's descriptors
// 0-2 (the console). When bootstrap exits the kernel powers off; it
// exits with init's exit status, or 128+n if signal n killed init.
//
// # Steps
//
//  1. pcid (/bin/pcid) is started with a copy of the root device
//     capability and a registration endpoint (drivers/pci/cmd/pcid/doc.go)
//     and answers with a capability on its registry (devreg).
//  2. pcid's List is read every 50 ms until the disk is known: the first
//     preferred name a running driver registered, once no better name
//     can still come (no driver is starting or about to be restarted:
//     pcid learns a name only when the driver registers). Steps 1-2 take
//     at most 10 s (diskWait); then the best name registered by then is
//     taken, or none.
//  3. fsd (/bin/fsd) is started on a capability on that driver (Lookup)
//     and a registration endpoint, never with -mkfs: a disk that holds no
//     filesystem, or one fsd refuses, is not formatted behind the user's
//     back. fsd must register within 20 s (fsdWait) or is killed.
//  4. Through fsd directly, before anything is mounted, the mount points
//     /boot, /dev and /proc are made (0755) if missing, and /tmp with mode
//     01777 (also set if /tmp has another mode). mkimage puts them on the
//     image's root disk; a user's DISK= may lack them.
//  5. libos.Bind("/", "/boot") keeps the initfs reachable at /boot, then
//     libos.Mount("/", fsd, 0) makes the disk the root. Init and
//     everything it starts share this namespace (as on Linux).
//  6. Every disk registered with pcid by then becomes a device file in
//     /dev, as Linux names it (/dev/nvme0n1, /dev/vda: names.go), served
//     by bootstrap with servers/fs/blkfile over a capability on its
//     driver and attached with libos.AttachDevice (blockdevs.go).
//     Bootstrap then serves the mount protocol and registers as the
//     kernel's mounter (mounter.go): mount(2) of a disk with type valfs
//     starts an fsd on it as in step 3 and hands the kernel a capability
//     on it; when the kernel says the mount is gone (umount2), that fsd
//     syncs and stops. The root disk, or a disk mounted already, is
//     EBUSY; another type ENODEV; a disk fsd refuses EINVAL with fsd's
//     reason.
//  7. With a NIC registered as net0, netd (/bin/netd, from the initfs at
//     /boot once the disk is mounted) is started on it and, once it has
//     registered (its interface configured by DHCP, or given up on a
//     lease after 30 s), made the kernel's network server
//     (libos.SetNetServer): AF_INET socket calls go to it (net.go). A
//     netd that dies is started again and registered anew, with fsd's
//     budget.
//  8. Init is spawned (libos.Spawn). If its path is missing on the disk
//     but present in the initfs, /boot/<path> is run instead, and the
//     console says so.
//  9. bootstrap waits for its children. When fsd dies, a new fsd is
//     started on the same disk (looked up again: the driver may have died
//     and been restarted by pcid) and mounted over the old with
//     ipc.MountReplace, so every process's "/" reaches it. It is spawned
//     from /boot/bin/fsd: spawn resolves paths in bootstrap's namespace,
//     whose "/" is the dead fsd's. (pcid unshared its namespace before it
//     registered, so it keeps the initfs as its root and can still
//     restart drivers.)
//     Restarts wait
//     250 ms doubling to 4 s, and after 5 within a minute fsd is left
//     stopped. Other children's ends are reaped (pcid's is noted).
//  10. When init ends: SIGTERM to netd, sync(2), then SIGTERM to every fsd, which commits
//     and exits (SIGKILL after 10 s): the disks mount(2) mounted, then
//     the root's; then exit with init's status.
//
// # Failures
//
// Anything that goes wrong before init starts leaves the initfs as the
// root and init is run from it: no root device capability, pcid not
// starting, no disk registered in time, fsd refusing the disk or not
// registering, the mount refused. One line says which, with the reason;
// for fsd that is fsd's own last words, read from its stderr (tap.go: for
// the spawn only, descriptor 2 is a pipe that a relay copies to the
// console). If init cannot be started at all, bootstrap says why, stops
// fsd cleanly and exits 1.
//
// # Console
//
// Every line bootstrap writes starts with "bootstrap: " and is one write:
//
//	bootstrap: root is nvme0 (valfs), the initfs is at /boot
//	bootstrap: root is nvme0 (valfs); the initfs is not reachable
//	bootstrap: the initfs is not reachable: bind / at /boot: no such file or directory
//	bootstrap: root disk nvme0 not mounted: QEMU NVMe Ctrl: no valid Valence filesystem superblock (fsd exit status 1); the initfs stays the root
//	bootstrap: root disk nvme0 or vda not mounted: no driver registered nvme0 or vda; the initfs stays the root
//	bootstrap: root=initfs: the initfs stays the root
//	bootstrap: /tmp on nvme0 had mode 0755; setting 01777
//	bootstrap: /bin/init is not on the root disk; running /boot/bin/init from the initfs
//	bootstrap: cannot start init: spawn /bin/init: no such file or directory
//	bootstrap: fsd (pid 12) ended while init runs: killed by SIGKILL
//	bootstrap: restarting fsd on nvme0 in 250ms
//	bootstrap: fsd restarted on nvme0 (pid 14); / is served again
//	bootstrap: fsd restarted 5 times within 1m0s; not again: files on / fail until reboot
//	bootstrap: disk files: [/dev/nvme0n1 /dev/vda]
//	bootstrap: no /dev/vdb: <why>
//	bootstrap: /dev/vda (valfs) served by fsd (pid 31) for mount(2)
//	bootstrap: fsd (pid 31) for /dev/vda ended: killed by SIGKILL; files there fail until it is unmounted and mounted again
//	bootstrap: mount(2) of disks is unavailable: <why>
//	bootstrap: no network: netd on net0: <why>
//	bootstrap: netd (pid 14) ended: killed by SIGKILL
//	bootstrap: restarting netd on net0 in 250ms
//	bootstrap: netd restarted (pid 40)
//	bootstrap: pcid (pid 2) ended: exit status 1; drivers are no longer restarted
//	bootstrap: /bin/init (pid 5) ended: exit status 0; exiting with status 0
//
// # Testing
//
// The decisions are functions tested on the host (names.go: device file
// names and numbers; config.go: arguments,
// root=, init's environment and path, exit codes; disk.go: pickDisk;
// fsd.go: fixFor; supervise.go: the restart budget; tap.go: which stderr
// line is the reason). The rest is system calls, exercised by booting.
package main
