// Command lspci lists the PCI functions the PCI manager (pcid) found, one
// line each, as `lspci -nn` formats them, followed by the driver pcid
// chose for the function and its state:
//
//	00:00.0 Host bridge [0600]: Intel Corporation [8086:29c0]
//	00:04.0 Non-Volatile memory controller [0108]: Red Hat, Inc. [1b36:0010] (rev 02) -> nvmed [running, pid 5, nvme0]
//	00:03.0 Ethernet controller [0200]: Red Hat, Inc. [1af4:1041] (rev 01) -> virtio-netd [failed: no /bin/virtio-netd]
//
// The bracket holds the state ("starting", "running", "exited: …",
// "failed: …"), the driver's pid while it runs, and the name it
// registered under, if it has.
//
// # Finding pcid
//
// Valence has no name service yet, so lspci is given the way to pcid: its
// first initial handle (libos.InitialHandles, handle 0) must be a client
// capability on pcid's endpoint, such as the one pcid sends its parent at
// start-up (see pcid's documentation); the program that starts lspci
// passes it with libos.ProcSpawn. lspci makes one devreg.List call and
// prints the reply on standard output.
//
// Exit status: 0 on success, 1 if the call failed (pcid gone, or an
// error reply), 2 if lspci was started without a handle.
package main
