// Command pcid is Valence's PCI manager. It finds the PCI functions
// through the ECAM window, starts the driver its manifest names for each
// function, with capabilities for that function and nothing else, and
// serves the registry (valence.dev/drivers/lib/devreg) through which
// drivers offer their endpoints and clients find them.
//
// # Starting pcid
//
// pcid needs the root device capability (docs/drivers.md), found thus:
//
//   - started with libos.ProcSpawn (VALENCE_HANDLES set): initial handle
//     0 is the root device capability (with Manage and Grant), and the
//     optional initial handle 1 a registration endpoint of the parent;
//   - otherwise, as the first process: the root named by
//     VALENCE_DEVICE_ROOT (libos.DeviceRoot), and no registration.
//
// Initial handles win when both are present: the parent's
// VALENCE_DEVICE_ROOT names nothing in pcid's handle table. pcid checks
// that the handle is a device capability and exits with status 1 and a
// "pcid: fatal: ..." line if it is not, or if the platform has no ECAM.
//
// With a registration handle, once it serves, pcid calls it with a
// message of label 1 carrying one handle, a client capability on pcid's
// endpoint (rights Write, Grant and Duplicate, badge 1: it can Lookup and
// List, never Register), as userland/ipctests' servers do; the reply is
// ignored. The parent gives copies of it to lspci and other clients.
//
// Flags: -manifests dir (default /etc/drivers), -serve n (default 4
// goroutines serving the registry).
//
// # What pcid does
//
//  1. libos.DevInfo gives the ECAM base and bus range. Each bus is mapped
//     (one 1 MiB DevMMIO) when first scanned: bus ECAMStartBus, then the
//     buses behind every bridge found, as firmware numbered them
//     (pci.BusWindows, pci.ScanBridges).
//  2. The manifests /etc/drivers/*.toml are read in name order; a bad one
//     is logged with its reason and skipped. pci.Match picks each
//     function's driver.
//  3. For each matched function, in address order: a plan (MakePlan: BAR
//     windows, env, argv) is made; a driver path missing from the image
//     fails the function ("failed: no /bin/virtio-netd"); otherwise pcid
//     makes the capabilities devreg documents (DevDerive; a DevMMIO of the
//     function's 4 KiB of ECAM duplicated with Read, Map and Grant only;
//     a DevMMIO per memory BAR, whole pages from the BAR's base; DevPorts
//     per I/O BAR), sets Memory and I/O decoding as the BARs given need,
//     Bus Master and INTx Disable in the Command register, enables MSI-X
//     with every vector masked if the function has it (through its own
//     mapping of the table's BAR) — or, for a function with MSI only,
//     makes one MSI vector through the function's capability and
//     programs it — and spawns the driver with handles [registry (Write,
//     Grant, badged for this driver), function, configuration, BARs…,
//     the MSI vector's IRQ if made (VALENCE_PCI_MSI gives its index)] and an environment of PATH (pcid's, or /bin),
//     HOME=/, VALENCE_PCI_ADDR, VALENCE_PCI_BARS and VALENCE_PCI_INDEX
//     (the function's index among those of the same driver, in address
//     order, from which the driver names its device), and nothing of
//     pcid's own (no VALENCE_DEVICE_ROOT). argv is the path's base name
//     followed by the manifest's args.
//  4. A BAR that cannot be given is left out of VALENCE_PCI_BARS with a
//     note: unassigned (base 0), a memory BAR smaller than a page that
//     does not start one (the driver's offset 0 must be the BAR's first
//     byte), larger than 256 MiB, or ports past 0xFFFF.
//  5. When a driver ends (ProcNotify on a notification bound to pcid's
//     endpoint, one bit per driver for the first 64, a goroutine in
//     ProcWait beyond), pcid turns off the function's bus mastering, MSI
//     and MSI-X (DMA is not isolated: the driver's memory is about to be
//     freed), drops its registration, revokes what was derived from its
//     function capability and closes every handle it made for it. Then
//     it starts the driver again, with everything made afresh, after
//     250 ms, doubling with each restart up to 8 s; after five restarts
//     within a minute, a driver that ends again is left stopped ("not
//     restarted").
//
// # The registry
//
// rpc.Server serves devreg.Protocol on pcid's endpoint from several
// goroutines. Every capability pcid gives out is badged (badge 1 for
// clients, a fresh badge from 2 up for each driver started, never reused),
// so no holder can mint a badge; the endpoint itself is never given.
//
//   - Register is accepted only through a driver badge whose driver is
//     starting or running, and once: a name of 1-64 bytes and a kind of
//     1-32 bytes of [A-Za-z0-9._-], a name no other driver holds (EEXIST),
//     and an endpoint capability with Write, Grant and Duplicate (EINVAL
//     otherwise). Anything else through a non-driver badge, a dead
//     driver's badge or a second time is devreg.ErrNotDriver (EPERM).
//   - Lookup answers a copy (Write and Grant; no Duplicate, so that a
//     client cannot mint badges) of what the driver registered, with a
//     badge of its own (from 2^32 up, one per lookup) so the driver can
//     tell its clients apart; or devreg.ErrNotFound, also for names longer
//     than any registrable.
//   - List reports every function found, in address order, with its
//     driver, pid, registered name and state: "no driver", "starting",
//     "running" (registered), "exited: exit status N" or "exited: killed
//     by SIGKILL", "failed: why". A list too big for one message loses
//     its lspci lines first, then its last functions (devreg has no
//     paging yet).
//
// Handlers never block: each takes the registry's lock for a few map
// operations and at most one Dup. Handles that reach pcid in a request
// it does not keep (a refused Register, an undecodable request, an
// unknown method, stray handles) are closed when it is answered, and
// handles in a reply that cannot be delivered are closed too, so no
// client can fill pcid's handle table. Refused registrations are logged,
// the first 16 only.
//
// # Console
//
// Every line starts with "pcid: " and is written whole:
//
//	pcid: ECAM at 0xb0000000, buses 00-ff; DMA not isolated
//	pcid: 00:03.0 Non-Volatile memory controller [0108]: Red Hat, Inc. [1b36:0010] (rev 02) -> nvmed
//	pcid: 00:1f.0 ISA bridge [0601]: Intel Corporation [8086:2918] (rev 02)
//	pcid: 00:02.0 problem: PCI Express capability at 0xe0: its 36 bytes run past 0x100; ignored
//	pcid: manifest /etc/drivers/x.toml skipped: pci: manifest /etc/drivers/x.toml: unknown keys: match.vendr
//	pcid: bus 05 not scanned: pci: bus 05: dev mmio: operation not permitted
//	pcid: nvmed (00:03.0) note: BAR2: no address assigned; not given to the driver
//	pcid: nvmed (00:03.0) started: pid 8
//	pcid: virtio-netd (00:04.0) failed: no /bin/virtio-netd
//	pcid: ready: 8 functions, 2 drivers started, 1 failed
//	pcid: registered with the parent
//	pcid: nvmed (00:03.0) registered nvme0 (block)
//	pcid: refused Register from edud (00:02.0) (badge 2): devreg: only a driver pcid started may register, once
//	pcid: nvmed (00:03.0) exited: exit status 1
//	pcid: nvmed (00:03.0) restarting in 250ms
//	pcid: nvmed (00:03.0) not restarted: it ended 6 times in 1m0s
//	pcid: fatal: ...
//
// Function lines come in address order, before any driver starts;
// "ready" follows the last start attempt. Registration, registry and
// exit lines come when they happen.
package main
