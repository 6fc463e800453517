// Command virtio-blkd is the driver for modern virtio block devices
// (virtio-blk-pci, 1af4:1042; VIRTIO 1.2 §5.2 over the PCI transport,
// §4.1): a process pcid starts for each such function (drivers/lib/devreg
// says with what). It finds the device's virtio structures through the
// vendor-specific capabilities in its configuration space (§4.1.4), maps
// them from the BAR windows pcid gave (each BAR mapped once, only if a
// structure or the MSI-X table is in it), sets up two MSI-X vectors (one
// for configuration changes, one for the request queue; fewer if the
// table is smaller), opens the disk with the driver core
// (valence.dev/drivers/virtio-blk/blk), prints
//
//	virtio-blkd: 00:05.0: vda: 64 MiB (131072 blocks of 512 bytes, serial "...", up to 2048 blocks per request)
//
// (with ", read-only" or ", no flush" when the device says so) and serves
// the block protocol (drivers/lib/block) with 32 goroutines on an endpoint
// it registers with pcid as "vda" for the first virtio disk in address
// order, "vdb" for the next (devreg.Index; -name overrides), kind "block". Data moves
// between the device and the clients' shared buffers by DMA; nothing is
// copied through messages.
//
// Everything it touches is its own device's: registers through the BAR
// windows, DMA memory and interrupt vectors through the function's device
// capability. A driver bug or a misbehaving device costs this process,
// never the kernel.
package main
