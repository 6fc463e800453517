// Package virtio is the device-independent half of Valence's virtio
// drivers: the modern virtio-over-PCI transport and split virtqueues, as
// specified by Virtual I/O Device (VIRTIO) Version 1.2 (section numbers
// below and in the code are that document's). It targets QEMU's modern
// devices (virtio-net-pci, virtio-blk-pci with disable-legacy=on); legacy
// and transitional interfaces are not driven.
//
// # Layout
//
// A device's structures are found through vendor-specific PCI
// capabilities (§4.1.4): CapBytes reads them from configuration space at
// the offsets pcidev.Caps finds, ParseCap parses one capability's bytes,
// ParseLayout picks the first usable common, notify, ISR and device
// configuration structures, and Layout.Windows maps them, given the
// function's BARs, into register windows (Window) that cannot reach past
// their structure. New wraps the windows in a Transport.
//
// # Initialisation
//
// A device driver follows §3.1.1 through the Transport:
//
//	feat, err := t.Negotiate(ctx, want) // reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK
//	err = t.UseInterrupts(irqs)         // INTx, or MSI-X with config_msix_vector checked
//	err = t.ReadConfig(func(cfg dev.Regs) { ... }) // under config_generation
//	q, err := t.SetupQueue(i, dma, max) // per queue: size, rings, vector, enable
//	err = t.Ready()                     // DRIVER_OK
//	go t.Serve(ctx, virtio.Handler{...})
//
// VIRTIO_F_VERSION_1 is required; a device without it is refused
// (ErrNoVersion1). The transport also accepts VIRTIO_F_ACCESS_PLATFORM
// (the addresses it hands the device are IOMMU bus addresses) and
// VIRTIO_F_ORDER_PLATFORM, and never packed rings, indirect descriptors or
// event indices. Any failure after the reset leaves the device FAILED.
//
// # Virtqueues
//
// A Queue is a split virtqueue (§2.7): descriptor table, available ring
// and used ring in one DMA allocation, aligned as §2.7 requires. Add
// places a chain of Segments (device-readable first, §2.7.4.2) and
// publishes it (§2.7.13), Kick notifies the device at
// queue_notify_off × notify_off_multiplier (§4.1.4.4) unless the device
// asked not to be (§2.7.10), and Harvest collects used chains (§2.7.14).
// Interrupts arrive through Serve: on INTx the ISR byte is read to tell
// queue from configuration interrupts (§4.1.4.5); with MSI-X, vector 0
// carries configuration changes and queues are spread over the others.
//
// # Trust
//
// The device is not trusted. What the driver knows about chains in flight
// lives in Go memory, never read back from the descriptor table (which
// the device can write). Harvest accepts a used element only if its id is
// the head of a chain in flight and its len at most that chain's writable
// bytes, and only as many elements as there are chains in flight;
// anything else stops the queue with an error wrapping ErrDevice. A queue
// size of 0, not a power of two or above 32768, a notify address outside
// the notify structure, a refused MSI-X vector and a configuration that
// never reads stably are errors too, never panics. After such an error the
// driver resets the device (Reset waits for device_status to read 0) before
// failing what was in flight, so that the device no longer writes buffers
// the driver hands back; Drain then returns their tokens. DEVICE_NEEDS_RESET
// (§2.1.2) is reported by CheckStatus as ErrNeedsReset.
//
// # Memory ordering
//
// The avail and used idx words are read and written with sync/atomic
// (package internal/ringmem), which provides the barriers §2.7.13.3 and
// §2.7.14 ask for and lets the race detector see the handover between
// driver and (fake) device.
//
// Package virtiotest is a fake virtio-pci device for hosted tests.
package virtio
