// Command virtio-netd is the driver for modern virtio network devices
// (virtio-net-pci, 1af4:1041; VIRTIO 1.2 §5.1 over the PCI transport,
// §4.1): a process pcid starts for each such function (drivers/lib/devreg
// says with what). It finds the device's virtio structures through the
// vendor-specific capabilities in its configuration space (§4.1.4),
// maps them from the BAR windows pcid gave, sets up MSI-X vectors (one
// for configuration changes, one per queue: receiveq1 and transmitq1,
// §5.1.2), opens the device with the driver core
// (valence.dev/drivers/virtio-net/netdev), prints
//
//	virtio-netd: 00:03.0: net0: MAC 52:54:00:12:34:56, link up
//
// and registers an endpoint serving the NIC protocol
// (valence.dev/drivers/lib/nic) with pcid as "net0" for the first NIC in
// address order, "net1" for the next (devreg.Index; -name overrides),
// kind "nic".
//
// Frames move through the client's shared rings, never through messages:
// netdev.Receive → the client's receive ring and a signal on its RxReady;
// the client's TxReady → the transmit ring drained → netdev.Send. One
// client at a time; a new Attach replaces the old one. A client that
// breaks the ring protocol is detached and logged once; the driver goes
// on. A device failure (package virtio's checks, DEVICE_NEEDS_RESET) ends
// the process with the error, after resetting the device.
package main
