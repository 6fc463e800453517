package virtiotest

import (
	"encoding/binary"
	"fmt"
	"sync"

	"valence.dev/drivers/lib/dev"
	"valence.dev/drivers/lib/devtest"
	"valence.dev/drivers/lib/virtio"
)

// The fake's BAR 4, laid out as QEMU lays out a modern virtio-pci device.
const (
	barIndex   = 4
	barSize    = 0x4000
	commonOff  = 0x0000
	isrOff     = 0x1000
	deviceOff  = 0x2000
	notifyOff  = 0x3000
	structSize = 0x1000
)

// Common configuration offsets (VIRTIO 1.2 §4.1.4.3), the device's view.
const (
	cDeviceFeatureSelect = 0x00
	cDeviceFeature       = 0x04
	cDriverFeatureSelect = 0x08
	cDriverFeature       = 0x0c
	cConfigMSIXVector    = 0x10
	cNumQueues           = 0x12
	cDeviceStatus        = 0x14
	cConfigGeneration    = 0x15
	cQueueSelect         = 0x16
	cQueueSize           = 0x18
	cQueueMSIXVector     = 0x1a
	cQueueEnable         = 0x1c
	cQueueNotifyOff      = 0x1e
	cQueueDescLo         = 0x20
	cQueueDescHi         = 0x24
	cQueueDriverLo       = 0x28
	cQueueDriverHi       = 0x2c
	cQueueDeviceLo       = 0x30
	cQueueDeviceHi       = 0x34
)

const noVector = 0xffff

// Backend is a device type's behaviour. Its methods run with the device's
// lock held, on the device's goroutine (Process) or the driver's (Reset,
// from a register write); they use Pop and Push.
type Backend interface {
	// Process serves queue q, which the driver has notified.
	Process(d *Device, q int)
	// Reset forgets every chain the backend holds: after a device reset
	// the driver may free their memory.
	Reset()
}

// Options describe the fake device.
type Options struct {
	Features   uint64   // offered, exactly (tests of refusal omit VERSION_1)
	QueueSizes []uint16 // maximum size of each queue; may be hostile (0, not a power of 2)
	// MSIXVectors is the size of the MSI-X table; 0 means MSI-X is disabled
	// and the device uses its INTx line and ISR status.
	MSIXVectors      int
	NotifyMultiplier uint32 // notify_off_multiplier; 0 is valid
	Config           []byte // device-specific configuration
	Backend          Backend

	RefuseFeatures bool // clear FEATURES_OK whatever the driver accepts
	RefuseVectors  bool // read back NO_VECTOR for every MSI-X mapping
	UnstableConfig bool // config_generation changes on every read
	// BadNotifyOff makes queue_notify_off point past the notify structure.
	BadNotifyOff bool
}

type queueState struct {
	max, size            uint16
	vector               uint16
	enabled              bool
	desc, driver, device uint64
	lastAvail, usedIdx   uint16
	maxOutstanding       int
}

// Device is a fake modern virtio-pci function: its BAR with the common
// configuration, ISR, device configuration and notify structures, its
// vendor-specific capabilities, interrupts, and the DMA memory it reaches
// through the (fake) IOMMU. It checks what the driver does against the
// spec and records violations (Violations) rather than panicking.
//
// mu guards everything below it; the backend runs under it.
type Device struct {
	opts Options
	DMA  *devtest.DMA
	bar  *devtest.Regs
	intx *devtest.IRQ
	msix []*devtest.IRQ

	mu             sync.Mutex
	status         uint8
	devSelect      uint32
	drvSelect      uint32
	driverFeatures uint64
	configVector   uint16
	generation     uint8
	isr            uint8
	queueSelect    uint16
	queues         []queueState
	faults         []Fault
	paused         bool
	kicked         []bool
	violations     []string

	wake chan struct{}
	stop chan struct{}
	done chan struct{}
}

// New returns a running fake device; Close stops it.
func New(o Options) *Device {
	if o.Backend == nil {
		o.Backend = &Echo{}
	}
	d := &Device{
		opts: o, DMA: devtest.NewDMA(), bar: devtest.NewRegs(barSize), intx: devtest.NewIRQ(),
		queues: make([]queueState, len(o.QueueSizes)), kicked: make([]bool, len(o.QueueSizes)),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	for range o.MSIXVectors {
		d.msix = append(d.msix, devtest.NewIRQ())
	}
	for i, b := range o.Config {
		d.bar.Store(deviceOff+uint64(i), 1, uint64(b))
	}
	if a, ok := o.Backend.(interface{ attach(*Device) }); ok {
		a.attach(d)
	}
	d.bar.Read = d.read
	d.bar.Write = d.write
	d.resetLocked()
	go d.run()
	return d
}

// Close stops the device's goroutine.
func (d *Device) Close() {
	close(d.stop)
	<-d.done
}

// BAR returns the device's register BAR (index 4).
func (d *Device) BAR() *devtest.Regs { return d.bar }

// Caps returns the device's virtio vendor-specific capabilities as raw
// bytes, as a driver finds them on the PCI capability list.
func (d *Device) Caps() [][]byte {
	mk := func(t virtio.CapType, off, n uint32, extra ...uint32) []byte {
		b := make([]byte, 16+4*len(extra))
		b[0], b[2], b[3], b[4] = 0x09, byte(len(b)), byte(t), barIndex
		binary.LittleEndian.PutUint32(b[8:], off)
		binary.LittleEndian.PutUint32(b[12:], n)
		for i, e := range extra {
			binary.LittleEndian.PutUint32(b[16+4*i:], e)
		}
		return b
	}
	caps := [][]byte{
		mk(virtio.CapCommon, commonOff, structSize),
		mk(virtio.CapISR, isrOff, structSize),
		mk(virtio.CapNotify, notifyOff, structSize, d.opts.NotifyMultiplier),
	}
	if len(d.opts.Config) > 0 {
		caps = append(caps, mk(virtio.CapDevice, deviceOff, structSize))
	}
	return caps
}

// Transport parses the device's capabilities and returns a transport
// over its BAR, as a driver's main would.
func (d *Device) Transport() (*virtio.Transport, error) {
	l, err := virtio.ParseLayout(d.Caps())
	if err != nil {
		return nil, err
	}
	w, err := l.Windows(func(i uint8) (dev.Regs, error) {
		if i != barIndex {
			return nil, fmt.Errorf("no BAR %d", i)
		}
		return d.bar, nil
	})
	if err != nil {
		return nil, err
	}
	return virtio.New(w)
}

// Interrupts returns the device's interrupts as a driver is handed them.
func (d *Device) Interrupts() virtio.Interrupts {
	if len(d.msix) == 0 {
		return virtio.Interrupts{INTx: d.intx}
	}
	irqs := make([]dev.IRQ, len(d.msix))
	for i, q := range d.msix {
		irqs[i] = q
	}
	return virtio.Interrupts{MSIX: irqs}
}

// Status returns the device status byte.
func (d *Device) Status() uint8 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.status
}

// DriverFeatures returns the features the driver accepted.
func (d *Device) DriverFeatures() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.driverFeatures
}

// QueueSize returns the size the driver chose for queue q.
func (d *Device) QueueSize(q int) uint16 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.queues[q].size
}

// MaxOutstanding returns the most chains of queue q the driver has had
// available and not yet used at one time, as seen when the device looked.
func (d *Device) MaxOutstanding(q int) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.queues[q].maxOutstanding
}

// Violations returns what the driver did that the spec does not allow.
func (d *Device) Violations() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.violations...)
}

func (d *Device) violate(format string, args ...any) {
	d.violations = append(d.violations, fmt.Sprintf(format, args...))
}

// Pause stops the device processing notifications until Resume, so that
// a test can have many requests in flight at once.
func (d *Device) Pause() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.paused = true
}

// Resume undoes Pause and processes every queue.
func (d *Device) Resume() {
	d.mu.Lock()
	d.paused = false
	for i := range d.kicked {
		d.kicked[i] = true
	}
	d.mu.Unlock()
	d.poke()
}

// SetConfig changes device configuration bytes at off, as the device
// does on its own (link status...), and sends a configuration change
// notification (§2.5, §4.1.5.4).
func (d *Device) SetConfig(off int, b []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, v := range b {
		d.bar.Store(deviceOff+uint64(off+i), 1, uint64(v))
	}
	d.generation++
	d.configInterrupt()
}

// NeedsReset sets DEVICE_NEEDS_RESET and notifies the driver (§2.1.2).
func (d *Device) NeedsReset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.status |= virtio.StatusDeviceNeedsReset
	d.configInterrupt()
}

func (d *Device) configInterrupt() {
	if d.status&virtio.StatusDriverOK == 0 {
		return
	}
	if len(d.msix) == 0 {
		d.isr |= 2
		d.intx.Raise()
		return
	}
	if int(d.configVector) < len(d.msix) {
		d.msix[d.configVector].Raise()
	}
}

func (d *Device) queueInterrupt(q int) {
	if len(d.msix) == 0 {
		d.isr |= 1
		d.intx.Raise()
		return
	}
	if v := d.queues[q].vector; int(v) < len(d.msix) {
		d.msix[v].Raise()
	}
}

func (d *Device) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// run is the device's goroutine: it serves notified queues.
func (d *Device) run() {
	defer close(d.done)
	for {
		select {
		case <-d.stop:
			return
		case <-d.wake:
		}
		d.mu.Lock()
		for q := range d.kicked {
			if !d.kicked[q] || d.paused || !d.live() {
				continue
			}
			d.kicked[q] = false
			if d.queues[q].enabled {
				d.opts.Backend.Process(d, q)
			}
		}
		d.mu.Unlock()
	}
}

// live says whether the device may use its queues: DRIVER_OK and not
// halted by an error.
func (d *Device) live() bool {
	return d.status&virtio.StatusDriverOK != 0 && d.status&(virtio.StatusDeviceNeedsReset|virtio.StatusFailed) == 0
}
