package virtio

import "errors"

// Sentinel errors, to be tested with errors.Is; the errors returned wrap
// them with what was found.
var (
	// ErrNoVersion1: the device does not offer VIRTIO_F_VERSION_1, so it is
	// a legacy device, which Valence does not drive (§6, §3.1.1).
	ErrNoVersion1 = errors.New("virtio: device does not offer VIRTIO_F_VERSION_1")
	// ErrFeaturesRefused: the device cleared FEATURES_OK, refusing the
	// feature subset the driver accepted (§3.1.1 step 6).
	ErrFeaturesRefused = errors.New("virtio: device refused the negotiated features")
	// ErrNeedsReset: the device set DEVICE_NEEDS_RESET (§2.1.1); it must be
	// reset and initialised again before further use.
	ErrNeedsReset = errors.New("virtio: device needs reset")
	// ErrDevice: the device presented a value the spec does not allow
	// (an out-of-range used id, an oversized used length, a bad queue
	// size...). The driver stops using the device.
	ErrDevice = errors.New("virtio: device misbehaved")
	// ErrNoVector: the device could not map an event to an MSI-X vector
	// (§4.1.5.1.2: it reads back NO_VECTOR).
	ErrNoVector = errors.New("virtio: device refused an MSI-X vector")
	// ErrQueueFull: not enough free descriptors for a buffer chain; retry
	// after used buffers have been harvested.
	ErrQueueFull = errors.New("virtio: virtqueue full")
	// ErrClosed: the transport or queue was closed.
	ErrClosed = errors.New("virtio: closed")
)
