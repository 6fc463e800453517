package virtiotest

import "valence.dev/drivers/lib/virtio"

// commonWidth is the width of each common configuration field
// (§4.1.4.3); 64-bit fields are accessed as 32-bit halves (§4.1.3.1).
var commonWidth = map[uint64]int{
	cDeviceFeatureSelect: 4, cDeviceFeature: 4, cDriverFeatureSelect: 4, cDriverFeature: 4,
	cConfigMSIXVector: 2, cNumQueues: 2, cDeviceStatus: 1, cConfigGeneration: 1,
	cQueueSelect: 2, cQueueSize: 2, cQueueMSIXVector: 2, cQueueEnable: 2, cQueueNotifyOff: 2,
	cQueueDescLo: 4, cQueueDescHi: 4, cQueueDriverLo: 4, cQueueDriverHi: 4, cQueueDeviceLo: 4, cQueueDeviceHi: 4,
}

// resetLocked puts the device in its reset state (§2.4, §4.1.5.1.2: every
// vector unmapped).
func (d *Device) resetLocked() {
	d.status, d.devSelect, d.drvSelect, d.driverFeatures = 0, 0, 0, 0
	d.configVector, d.isr, d.queueSelect = noVector, 0, 0
	for i := range d.queues {
		d.queues[i] = queueState{max: d.opts.QueueSizes[i], size: d.opts.QueueSizes[i], vector: noVector}
		d.kicked[i] = false
	}
	d.opts.Backend.Reset()
}

func (d *Device) selected() *queueState {
	if int(d.queueSelect) < len(d.queues) {
		return &d.queues[d.queueSelect]
	}
	return nil
}

func (d *Device) notifyOffOf(q int) uint16 {
	if d.opts.BadNotifyOff {
		return 0x4000
	}
	return uint16(q)
}

func half(v uint64, hi bool) uint64 {
	if hi {
		return v >> 32
	}
	return v & 0xffffffff
}

func setHalf(p *uint64, v uint64, hi bool) {
	if hi {
		*p = *p&0xffffffff | v<<32
	} else {
		*p = *p&^0xffffffff | v&0xffffffff
	}
}

// read serves the driver's register reads.
func (d *Device) read(off uint64, width int) (uint64, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case off >= isrOff && off < isrOff+structSize:
		// §4.1.4.5: reading the ISR status clears it.
		v := d.isr
		d.isr = 0
		return uint64(v), true
	case off >= commonOff+structSize:
		return 0, false
	}
	if w, ok := commonWidth[off]; !ok || w != width {
		d.violate("%d-byte read of common configuration at %#x", width, off)
		return 0, true
	}
	q := d.selected()
	if q == nil {
		q = &queueState{vector: noVector}
	}
	switch off {
	case cDeviceFeatureSelect:
		return uint64(d.devSelect), true
	case cDeviceFeature:
		if d.devSelect > 1 {
			return 0, true
		}
		return half(d.opts.Features, d.devSelect == 1), true
	case cDriverFeatureSelect:
		return uint64(d.drvSelect), true
	case cDriverFeature:
		if d.drvSelect > 1 {
			return 0, true
		}
		return half(d.driverFeatures, d.drvSelect == 1), true
	case cConfigMSIXVector:
		return uint64(d.configVector), true
	case cNumQueues:
		return uint64(len(d.queues)), true
	case cDeviceStatus:
		return uint64(d.status), true
	case cConfigGeneration:
		g := d.generation
		if d.opts.UnstableConfig {
			d.generation++
		}
		return uint64(g), true
	case cQueueSelect:
		return uint64(d.queueSelect), true
	case cQueueSize:
		return uint64(q.size), true
	case cQueueMSIXVector:
		return uint64(q.vector), true
	case cQueueEnable:
		if q.enabled {
			return 1, true
		}
		return 0, true
	case cQueueNotifyOff:
		return uint64(d.notifyOffOf(int(d.queueSelect))), true
	case cQueueDescLo, cQueueDescHi:
		return half(q.desc, off == cQueueDescHi), true
	case cQueueDriverLo, cQueueDriverHi:
		return half(q.driver, off == cQueueDriverHi), true
	default: // cQueueDeviceLo, cQueueDeviceHi
		return half(q.device, off == cQueueDeviceHi), true
	}
}

// write serves the driver's register writes.
func (d *Device) write(off uint64, width int, v uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case off >= notifyOff:
		d.notify(off-notifyOff, width, v)
		return
	case off >= deviceOff:
		d.violate("write to read-only device configuration at %#x", off-deviceOff)
		return
	case off >= isrOff:
		d.violate("write to the ISR status")
		return
	}
	if w, ok := commonWidth[off]; !ok || w != width {
		d.violate("%d-byte write of common configuration at %#x", width, off)
		return
	}
	q := d.selected()
	if q == nil && off >= cQueueSize {
		d.violate("queue field %#x written with queue_select %d out of range", off, d.queueSelect)
		return
	}
	switch off {
	case cDeviceFeatureSelect:
		d.devSelect = uint32(v)
	case cDriverFeatureSelect:
		d.drvSelect = uint32(v)
	case cDriverFeature:
		if d.drvSelect <= 1 {
			setHalf(&d.driverFeatures, v, d.drvSelect == 1)
		}
	case cConfigMSIXVector:
		d.configVector = d.mapVector(uint16(v))
	case cDeviceStatus:
		d.writeStatus(uint8(v))
	case cQueueSelect:
		d.queueSelect = uint16(v)
	case cQueueSize:
		n := uint16(v)
		if n == 0 || n&(n-1) != 0 || n > q.max {
			d.violate("queue %d: queue_size %d written (max %d)", d.queueSelect, n, q.max)
		}
		q.size = n
	case cQueueMSIXVector:
		q.vector = d.mapVector(uint16(v))
	case cQueueEnable:
		d.enableQueue(q, v)
	case cQueueDescLo, cQueueDescHi:
		setHalf(&q.desc, v, off == cQueueDescHi)
	case cQueueDriverLo, cQueueDriverHi:
		setHalf(&q.driver, v, off == cQueueDriverHi)
	case cQueueDeviceLo, cQueueDeviceHi:
		setHalf(&q.device, v, off == cQueueDeviceHi)
	default:
		d.violate("write to read-only common configuration field %#x (§4.1.4.3.2)", off)
	}
}

func (d *Device) mapVector(v uint16) uint16 {
	if v == noVector || d.opts.RefuseVectors || int(v) >= len(d.msix) {
		return noVector
	}
	return v
}

func (d *Device) writeStatus(s uint8) {
	if s == 0 {
		d.resetLocked()
		return
	}
	const deviceOwned = virtio.StatusDeviceNeedsReset
	if cleared := d.status &^ s &^ deviceOwned; cleared != 0 {
		d.violate("device status bits %#02x cleared without a reset", cleared)
	}
	newBits := s &^ d.status
	if newBits&virtio.StatusFeaturesOK != 0 {
		switch {
		case d.driverFeatures&^d.opts.Features != 0:
			d.violate("driver accepted features %#x not offered", d.driverFeatures&^d.opts.Features)
			s &^= virtio.StatusFeaturesOK
		case d.opts.RefuseFeatures:
			s &^= virtio.StatusFeaturesOK
		}
	}
	if newBits&virtio.StatusDriverOK != 0 && s&virtio.StatusFeaturesOK == 0 {
		d.violate("DRIVER_OK set without FEATURES_OK (§3.1.1)")
	}
	d.status = s | d.status&deviceOwned
	if newBits&virtio.StatusDriverOK != 0 {
		for i := range d.kicked {
			d.kicked[i] = true
		}
		d.poke()
	}
}

func (d *Device) enableQueue(q *queueState, v uint64) {
	if v != 1 {
		d.violate("queue %d: queue_enable written %d (§4.1.4.3.2)", d.queueSelect, v)
		return
	}
	if q.size == 0 || q.size&(q.size-1) != 0 {
		d.violate("queue %d: enabled with size %d", d.queueSelect, q.size)
		return
	}
	// §2.7: descriptor table 16-aligned, available ring 2, used ring 4.
	if q.desc == 0 || q.desc%16 != 0 || q.driver == 0 || q.driver%2 != 0 || q.device == 0 || q.device%4 != 0 {
		d.violate("queue %d: enabled with areas %#x %#x %#x", d.queueSelect, q.desc, q.driver, q.device)
		return
	}
	q.enabled = true
}

// notify serves a write to the notify structure (§4.1.5.2).
func (d *Device) notify(off uint64, width int, v uint64) {
	if width != 2 || int(v) >= len(d.queues) {
		d.violate("notify: %d-byte write of %d at %#x", width, v, off)
		return
	}
	want := uint64(d.notifyOffOf(int(v))) * uint64(d.opts.NotifyMultiplier)
	if off != want {
		d.violate("notify: queue %d notified at %#x, its address is %#x", v, off, want)
		return
	}
	if d.status&virtio.StatusDriverOK == 0 {
		d.violate("notify: queue %d notified before DRIVER_OK", v)
	}
	d.kicked[v] = true
	d.poke()
}
