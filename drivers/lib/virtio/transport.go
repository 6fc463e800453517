package virtio

import (
	"context"
	"fmt"
	"sync"
	"time"

	"valence.dev/drivers/lib/dev"
)

// Device status bits (§2.1).
const (
	StatusAcknowledge      = 1
	StatusDriver           = 2
	StatusDriverOK         = 4
	StatusFeaturesOK       = 8
	StatusDeviceNeedsReset = 64
	StatusFailed           = 128
)

// Reserved feature bits the transport itself deals with (§6).
const (
	FeatureIndirectDesc   = 1 << 28
	FeatureEventIdx       = 1 << 29
	FeatureVersion1       = 1 << 32
	FeatureAccessPlatform = 1 << 33
	FeatureRingPacked     = 1 << 34
	FeatureOrderPlatform  = 1 << 36
)

// transportFeatures are accepted whenever offered: VERSION_1 (required);
// ACCESS_PLATFORM, because the addresses Valence hands devices are bus
// addresses behind the IOMMU (dev.Buffer.Addr), which is what the feature
// says (§6: a driver SHOULD accept it); ORDER_PLATFORM, because the ring
// barriers are real memory barriers (package ringmem).
const transportFeatures = FeatureVersion1 | FeatureAccessPlatform | FeatureOrderPlatform

// deviceFeatureMask are the device-type feature bits 0-23 (§2.2) a driver
// may ask for; bits 24 and up are the transport's, and it offers only
// transportFeatures (no packed ring, event index or indirect descriptors).
const deviceFeatureMask = 1<<24 - 1

// Common configuration registers (§4.1.4.3, struct virtio_pci_common_cfg).
const (
	regDeviceFeatureSelect = 0x00
	regDeviceFeature       = 0x04
	regDriverFeatureSelect = 0x08
	regDriverFeature       = 0x0c
	regConfigMSIXVector    = 0x10
	regNumQueues           = 0x12
	regDeviceStatus        = 0x14
	regConfigGeneration    = 0x15
	regQueueSelect         = 0x16
	regQueueSize           = 0x18
	regQueueMSIXVector     = 0x1a
	regQueueEnable         = 0x1c
	regQueueNotifyOff      = 0x1e
	regQueueDesc           = 0x20
	regQueueDriver         = 0x28
	regQueueDevice         = 0x30
)

// NoVector is VIRTIO_MSI_NO_VECTOR (§4.1.5.1.2).
const NoVector = 0xffff

// resetTimeout bounds the wait for device_status to read 0 after a reset.
// The spec sets no limit; QEMU resets at once.
const resetTimeout = time.Second

// Transport is a virtio device behind the modern PCI transport (§4.1):
// its common configuration, notify, ISR and device-specific windows.
//
// mu guards the common configuration structure, whose queue_select and
// feature selectors make multi-register operations stateful, and the
// fields below it.
type Transport struct {
	common, notify, isr, device dev.Regs
	notifyMul                   uint32

	mu       sync.Mutex
	features uint64         // negotiated
	irqs     Interrupts     // as set by UseInterrupts
	queues   []*Queue       // set up since the last reset, by index order of setup
	byIndex  map[uint16]int // queue index -> position in queues
}

// New returns the transport over w, checking each window is large enough
// to hold what the driver accesses.
func New(w Windows) (*Transport, error) {
	switch {
	case w.Common == nil || w.Common.Len() < commonMinLen:
		return nil, fmt.Errorf("virtio: common configuration window missing or shorter than %#x", commonMinLen)
	case w.Notify == nil || w.Notify.Len() < notifyMinLen:
		return nil, fmt.Errorf("virtio: notify window missing or shorter than %d", notifyMinLen)
	case w.ISR == nil || w.ISR.Len() < isrMinLen:
		return nil, fmt.Errorf("virtio: ISR window missing")
	case !validMultiplier(w.NotifyOffMultiplier):
		return nil, fmt.Errorf("virtio: notify_off_multiplier %d is neither 0 nor an even power of 2: %w", w.NotifyOffMultiplier, ErrDevice)
	}
	return &Transport{
		common: w.Common, notify: w.Notify, isr: w.ISR, device: w.Device,
		notifyMul: w.NotifyOffMultiplier, byIndex: map[uint16]int{},
	}, nil
}

// Status returns the device status byte (§2.1).
func (t *Transport) Status() uint8 { return t.common.Read8(regDeviceStatus) }

// CheckStatus returns ErrNeedsReset if the device has set
// DEVICE_NEEDS_RESET (§2.1.1), a driver's cue to stop and reinitialise.
func (t *Transport) CheckStatus() error {
	if s := t.Status(); s&StatusDeviceNeedsReset != 0 {
		return fmt.Errorf("virtio: device status %#02x: %w", s, ErrNeedsReset)
	}
	return nil
}

func (t *Transport) setStatus(bits uint8) {
	t.common.Write8(regDeviceStatus, t.common.Read8(regDeviceStatus)|bits)
}

// Fail sets FAILED: the driver has given up on the device (§2.1, §3.1.1).
func (t *Transport) Fail() { t.setStatus(StatusFailed) }

// NumQueues returns the number of virtqueues the device has (num_queues,
// §4.1.4.3).
func (t *Transport) NumQueues() uint16 { return t.common.Read16(regNumQueues) }

// Features returns the features negotiated by the last Negotiate.
func (t *Transport) Features() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.features
}

// Reset resets the device (§2.4) and waits for device_status to read 0
// (§4.1.4.3.2), after which it no longer touches queue memory: the
// queues set up before are stopped and their rings freed.
func (t *Transport) Reset(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.resetLocked(ctx)
}

func (t *Transport) resetLocked(ctx context.Context) error {
	// Stop the queues first: a Kick racing with the reset then either
	// notifies before device_status is written or not at all.
	for _, q := range t.queues {
		q.stop(fmt.Errorf("virtio: queue %d: device was reset: %w", q.index, ErrClosed))
	}
	t.common.Write8(regDeviceStatus, 0)
	ctx, cancel := context.WithTimeout(ctx, resetTimeout)
	defer cancel()
	for wait := time.Microsecond; t.common.Read8(regDeviceStatus) != 0; wait = min(2*wait, time.Millisecond) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("virtio: reset: device_status still %#02x: %w", t.common.Read8(regDeviceStatus), dev.ErrTimeout)
		case <-time.After(wait):
		}
	}
	// The device no longer reads or writes the rings (§2.4), so their
	// memory can go back; what the driver still needs of a queue (Drain)
	// is kept in Go memory.
	for _, q := range t.queues {
		q.release()
	}
	t.queues, t.byIndex = nil, map[uint16]int{}
	t.features = 0
	t.irqs = Interrupts{}
	return nil
}

// Negotiate runs steps 1-6 of device initialisation (§3.1.1): reset,
// ACKNOWLEDGE, DRIVER, feature negotiation and the FEATURES_OK check. want
// are the device-type feature bits (0-23) the driver can use; the
// transport adds its own (VERSION_1, required, and others it supports).
// It returns the features accepted. On a failure after the reset the
// device is left FAILED.
func (t *Transport) Negotiate(ctx context.Context, want uint64) (uint64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.resetLocked(ctx); err != nil {
		return 0, err
	}
	t.setStatus(StatusAcknowledge)
	t.setStatus(StatusDriver)
	offered := t.deviceFeatures()
	if offered&FeatureVersion1 == 0 {
		t.setStatus(StatusFailed)
		return 0, fmt.Errorf("virtio: features offered %#x: %w", offered, ErrNoVersion1)
	}
	accept := offered & (want&deviceFeatureMask | transportFeatures)
	t.common.Write32(regDriverFeatureSelect, 0)
	t.common.Write32(regDriverFeature, uint32(accept))
	t.common.Write32(regDriverFeatureSelect, 1)
	t.common.Write32(regDriverFeature, uint32(accept>>32))
	t.setStatus(StatusFeaturesOK)
	if s := t.Status(); s&StatusFeaturesOK == 0 {
		t.setStatus(StatusFailed)
		return 0, fmt.Errorf("virtio: features %#x of %#x offered (status %#02x): %w", accept, offered, s, ErrFeaturesRefused)
	}
	t.features = accept
	return accept, nil
}

// deviceFeatures reads the 64 feature bits offered, 32 at a time
// (device_feature_select, §4.1.4.3).
func (t *Transport) deviceFeatures() uint64 {
	t.common.Write32(regDeviceFeatureSelect, 0)
	lo := t.common.Read32(regDeviceFeature)
	t.common.Write32(regDeviceFeatureSelect, 1)
	hi := t.common.Read32(regDeviceFeature)
	return uint64(hi)<<32 | uint64(lo)
}

// Ready sets DRIVER_OK (§3.1.1 step 8): the device is live. It is called
// after the driver has set up its queues and interrupts; a device that
// already wants a reset or has failed is reported.
func (t *Transport) Ready() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.features == 0 {
		return fmt.Errorf("virtio: DRIVER_OK before feature negotiation")
	}
	t.setStatus(StatusDriverOK)
	if err := t.CheckStatus(); err != nil {
		return err
	}
	return nil
}

// maxConfigTries bounds the retries of a device configuration read whose
// generation keeps changing.
const maxConfigTries = 64

// ReadConfig calls read with the device-specific configuration window
// until it has run without the configuration changing under it
// (config_generation, §2.5.1, §4.1.4.3). read may be called several times
// and must only read. Per §4.1.3.1 the driver reads 64-bit fields as two
// 32-bit halves, low first.
func (t *Transport) ReadConfig(read func(cfg dev.Regs)) error {
	if t.device == nil {
		return fmt.Errorf("virtio: device has no device-specific configuration")
	}
	for range maxConfigTries {
		before := t.common.Read8(regConfigGeneration)
		read(t.device)
		if t.common.Read8(regConfigGeneration) == before {
			return nil
		}
	}
	return fmt.Errorf("virtio: configuration generation changed on each of %d reads: %w", maxConfigTries, ErrDevice)
}

// ConfigLen returns the size of the device-specific configuration window
// (0 if there is none), which bounds what ReadConfig's callback may read.
func (t *Transport) ConfigLen() uint64 {
	if t.device == nil {
		return 0
	}
	return t.device.Len()
}

// Close resets the device, which frees the memory of its queues; Drain
// still returns the tokens of buffers that were in flight. If the reset
// fails, the device may still be using the rings, so they are not freed (a
// leak, not a use after free).
func (t *Transport) Close(ctx context.Context) error { return t.Reset(ctx) }
