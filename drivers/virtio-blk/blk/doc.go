// Package blk is the core of virtio-blkd, Valence's driver for virtio
// block devices (VIRTIO 1.2 §5.2) behind the modern PCI transport
// (package valence.dev/drivers/lib/virtio). A Disk implements
// block.Device; the process around it exports it to fsd.
//
// Open negotiates VIRTIO_BLK_F_SIZE_MAX, SEG_MAX, RO, BLK_SIZE and FLUSH
// when offered (§5.2.3), reads capacity, size_max, seg_max and blk_size
// (§5.2.4), checks them, sets up the one request queue and asks the device
// for its serial (VIRTIO_BLK_T_GET_ID). Info reports blocks of blk_size
// bytes (512 without BLK_SIZE); requests still address the device in
// 512-byte sectors (§5.2.5), so a block is blk_size/512 of them. The
// largest request is bounded by seg_max, size_max, the queue size and a
// 1 MiB cap of the driver's.
//
// Requests. Each request is a chain (§5.2.6): the 16-byte header
// (type, reserved, sector) device-readable, the data cut into segments of
// at most size_max (device-readable for a write, writable for a read),
// and the status byte device-writable. Headers and status bytes live in
// one DMA region of 32-byte slots, one per request in flight; the status
// byte is set to 0xff before submission, so a request the device returns
// without writing a status is caught. Many requests are in flight at once
// (up to half the queue size); requests that find no slot or not enough
// descriptors wait, in order, and start as completions free room. A flush
// to a device without VIRTIO_BLK_F_FLUSH completes at once: such a device
// has no volatile cache the driver could flush.
//
// Invariants, under Disk.mu: a slot is free or holds exactly one request
// whose chain is in the queue; every request submitted has its Done called
// exactly once, outside the lock.
//
// Failure. A device that misbehaves (package virtio's checks on the used
// ring, an unknown status) or sets DEVICE_NEEDS_RESET stops the Disk. The
// device is reset first, so that it no longer reads or writes the
// clients' buffers, and only then does every request in flight or waiting
// fail with the (sticky) error. Close does the same with ErrClosed.
package blk
