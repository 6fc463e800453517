// Package virtiotest is a fake modern virtio-pci device (VIRTIO 1.2 §4.1)
// for hosted tests of the virtio drivers, built on package devtest.
//
// A Device has one BAR laid out as QEMU lays it out (common configuration
// at 0, ISR at 0x1000, device configuration at 0x2000, notify at 0x3000)
// and offers the matching vendor-specific capabilities (Caps), so tests go
// through capability parsing as a driver's main does. The common
// configuration behaves as §4.1.4.3 says: feature selectors, status with
// FEATURES_OK refused for features not offered, reset on writing 0,
// per-queue size, vector, notify offset and areas selected by
// queue_select, MSI-X mappings that read back NO_VECTOR when refused. The
// ISR byte clears when read.
//
// The device serves notified queues on its own goroutine. It reaches the
// driver's rings and buffers only through devtest.DMA.Slice, by bus
// address, so a bad address is a DMA fault: the device records it and
// sets DEVICE_NEEDS_RESET, as a real device behind an IOMMU would. What
// the driver does against the spec (wrong access widths, writes to
// read-only fields, a queue enabled with misaligned areas, a notification
// before DRIVER_OK, a readable descriptor after a writable one...) is
// recorded in Violations, which tests check is empty.
//
// Backends give the device its type: Echo (copies readable bytes to
// writable ones), Net (virtio-net, §5.1: records transmitted frames,
// optionally loops them back, delivers frames from the "wire") and Disk
// (virtio-blk, §5.2: reads, writes, flushes and GET_ID over a byte slice,
// completing each batch in reverse order, with bad sectors and read-only
// mode). Inject makes the next used element hostile (Fault), NeedsReset
// asks for a reset, and Options can refuse features or vectors, present
// bad queue sizes or notify offsets, or make the configuration never read
// stably. Pause and Resume hold requests so that many are in flight.
//
// Locking: Device.mu guards all device state and is held while a backend
// runs; register hooks take it, DMA.Slice and devtest.Regs take their own
// locks inside it, never the other way round.
package virtiotest
