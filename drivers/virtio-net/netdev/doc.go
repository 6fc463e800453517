// Package netdev is the core of virtio-netd, Valence's driver for virtio
// network devices (VIRTIO 1.2 §5.1) behind the modern PCI transport
// (package valence.dev/drivers/lib/virtio). The process around it gets the
// device's BARs, interrupts and DMA memory from pcid and exports the NIC
// to netd; this package only drives the device.
//
// Open negotiates VIRTIO_NET_F_MAC and VIRTIO_NET_F_STATUS (with
// VIRTIO_F_VERSION_1; MRG_RXBUF, offloads, the control queue and
// multiqueue are not used), reads the MAC address and link status from the
// device configuration (making up a random locally administered address
// without F_MAC, and taking the link to be up without F_STATUS, §5.1.4),
// sets up receiveq1 and transmitq1 (§5.1.2) and fills the receive queue.
//
// Frames. Every packet is preceded by the 12-byte struct virtio_net_hdr
// (§5.1.6; num_buffers included because of VERSION_1). Each queue has one
// DMA region cut into 2 KiB slots, one slot per descriptor: a transmitted
// frame is copied into a free slot behind an all-zero header (no offloads,
// §5.1.6.2) and sent as one descriptor; a receive slot is one
// device-writable descriptor large enough for header and 1514-byte frame
// (§5.1.6.3.1), given back to the device as soon as Receive has copied its
// frame out (§5.1.6.4). A frame not yet received keeps its buffer, so a
// slow reader pushes back on the device (which holds or drops frames)
// instead of the driver dropping them.
//
// Invariants: a transmit slot is either free (txFree) or in the transmit
// queue, never both; there are as many slots as descriptors, so a slot in
// hand always fits. A receive slot is either in the receive queue or, with
// a frame, in the frames channel (whose capacity is the number of slots,
// so the interrupt handler never blocks on it), never both.
//
// Failure. A device that misbehaves (package virtio's checks on the used
// rings) or sets DEVICE_NEEDS_RESET stops the NIC: the error is sticky,
// Send and Receive return it, and the device is reset so it stops using
// the driver's memory. Recovering means opening the device again.
package netdev
