package virtio

import (
	"encoding/binary"
	"fmt"

	"valence.dev/drivers/lib/dev"
)

// CapType is a virtio structure PCI capability's cfg_type (VIRTIO 1.2
// §4.1.4).
type CapType uint8

// Structure types (§4.1.4). Other values are reserved and ignored.
const (
	CapCommon       CapType = 1 // common configuration, §4.1.4.3
	CapNotify       CapType = 2 // notifications, §4.1.4.4
	CapISR          CapType = 3 // ISR status, §4.1.4.5
	CapDevice       CapType = 4 // device-specific configuration, §4.1.4.6
	CapPCI          CapType = 5 // PCI configuration access, §4.1.4.9
	CapSharedMemory CapType = 8 // shared memory region, §4.1.4.7
	CapVendor       CapType = 9 // vendor-specific data, §4.1.4.8
)

func (t CapType) String() string {
	switch t {
	case CapCommon:
		return "common"
	case CapNotify:
		return "notify"
	case CapISR:
		return "isr"
	case CapDevice:
		return "device"
	case CapPCI:
		return "pci-cfg"
	case CapSharedMemory:
		return "shared-memory"
	case CapVendor:
		return "vendor"
	}
	return fmt.Sprintf("reserved(%d)", uint8(t))
}

// PCI capability ID of a vendor-specific capability (PCI Local Bus 3.0
// §6.7, Appendix H), which every virtio structure capability is.
const pciCapVendor = 0x09

// Sizes of struct virtio_pci_cap and struct virtio_pci_notify_cap (§4.1.4,
// §4.1.4.4).
const (
	capLen       = 16
	notifyCapLen = 20
	cap64Len     = 24 // struct virtio_pci_cap64
)

// Cap is one parsed virtio structure capability: where in which BAR a
// structure lives.
type Cap struct {
	Type   CapType
	BAR    uint8  // 0-5 (§4.1.4: other values reserved)
	ID     uint8  // meaning defined per device type, usually unused
	Offset uint64 // from the start of the BAR
	Length uint64 // of the structure, which may include padding
	// NotifyOffMultiplier is the notify capability's multiplier of
	// queue_notify_off (§4.1.4.4); zero for other types.
	NotifyOffMultiplier uint32
}

// ParseCap parses one capability's raw bytes, starting at its cap_vndr
// byte (as found by walking the PCI capability list). cap_len bounds what
// is read; bytes past it are ignored, and a cap_len larger than defined
// is accepted (§4.1.4.1). It checks only what the bytes themselves say;
// whether the structure fits its BAR is checked when it is mapped.
func ParseCap(b []byte) (Cap, error) {
	if len(b) < capLen {
		return Cap{}, fmt.Errorf("virtio: capability of %d bytes is shorter than virtio_pci_cap (%d)", len(b), capLen)
	}
	if b[0] != pciCapVendor {
		return Cap{}, fmt.Errorf("virtio: capability ID %#02x is not vendor-specific (%#02x)", b[0], pciCapVendor)
	}
	n := int(b[2]) // cap_len
	if n < capLen {
		return Cap{}, fmt.Errorf("virtio: cap_len %d is shorter than virtio_pci_cap (%d)", n, capLen)
	}
	if n > len(b) {
		return Cap{}, fmt.Errorf("virtio: cap_len %d runs past the %d bytes given", n, len(b))
	}
	b = b[:n]
	c := Cap{
		Type:   CapType(b[3]),
		BAR:    b[4],
		ID:     b[5],
		Offset: uint64(binary.LittleEndian.Uint32(b[8:])),
		Length: uint64(binary.LittleEndian.Uint32(b[12:])),
	}
	switch c.Type {
	case CapNotify:
		if n < notifyCapLen {
			return Cap{}, fmt.Errorf("virtio: notify capability's cap_len %d has no notify_off_multiplier", n)
		}
		c.NotifyOffMultiplier = binary.LittleEndian.Uint32(b[16:])
	case CapSharedMemory:
		// The only type defined with struct virtio_pci_cap64 (§4.1.4.7).
		if n < cap64Len {
			return Cap{}, fmt.Errorf("virtio: shared memory capability's cap_len %d has no offset_hi/length_hi", n)
		}
		c.Offset |= uint64(binary.LittleEndian.Uint32(b[16:])) << 32
		c.Length |= uint64(binary.LittleEndian.Uint32(b[20:])) << 32
	}
	return c, nil
}

// Layout is where a device's structures are: the first usable capability
// of each type the driver needs (§4.1.4.1: "the driver SHOULD use the
// first instance of each virtio structure type they can support").
type Layout struct {
	Common, Notify, ISR Cap
	// Device is the device-specific configuration; HasDevice is false for
	// device types that have none.
	Device    Cap
	HasDevice bool
}

// Minimum structure lengths the driver uses.
const (
	commonMinLen = 0x38 // through queue_device; 1.2's queue_notify_data and queue_reset are not used
	notifyMinLen = 2    // one 16-bit notify register (§4.1.4.4.1)
	isrMinLen    = 1
)

// ParseLayout finds the layout among a function's vendor-specific
// capabilities, each given as by ParseCap. Capabilities with a reserved
// cfg_type or bar are skipped (§4.1.4.1), as are ones that do not parse;
// missing common, notify or ISR structures, or ones too short to use, are
// errors. A device without them is legacy-only, which Valence does not
// drive (§4.1.5.1.1.1: a non-transitional driver fails gracefully).
func ParseLayout(caps [][]byte) (Layout, error) {
	var l Layout
	var seen [CapVendor + 1]bool
	for _, raw := range caps {
		c, err := ParseCap(raw)
		if err != nil || c.BAR > 5 {
			continue
		}
		switch c.Type {
		case CapCommon, CapNotify, CapISR, CapDevice:
		default:
			continue
		}
		if seen[c.Type] {
			continue
		}
		if c.Type == CapNotify && !validMultiplier(c.NotifyOffMultiplier) {
			// §4.1.4.4.1: 0 or an even power of two. Another one is
			// not usable; look for a later notify capability.
			continue
		}
		seen[c.Type] = true
		switch c.Type {
		case CapCommon:
			l.Common = c
		case CapNotify:
			l.Notify = c
		case CapISR:
			l.ISR = c
		case CapDevice:
			l.Device, l.HasDevice = c, true
		}
	}
	for _, need := range []struct {
		t   CapType
		c   Cap
		min uint64
	}{{CapCommon, l.Common, commonMinLen}, {CapNotify, l.Notify, notifyMinLen}, {CapISR, l.ISR, isrMinLen}} {
		if !seen[need.t] {
			return Layout{}, fmt.Errorf("virtio: no usable %s capability (a legacy-only device?)", need.t)
		}
		if need.c.Length < need.min {
			return Layout{}, fmt.Errorf("virtio: %s structure of %d bytes is shorter than %d", need.t, need.c.Length, need.min)
		}
	}
	return l, nil
}

// validMultiplier says whether m is a notify_off_multiplier a device
// without VIRTIO_F_NOTIFICATION_DATA may present (§4.1.4.4.1).
func validMultiplier(m uint32) bool {
	return m == 0 || (m >= 2 && m&(m-1) == 0)
}

// CapBytes reads the raw bytes of the capabilities at the given offsets of
// a function's configuration space (as pcidev.Caps(cfg, pcidev.CapVendor)
// finds them), each up to its cap_len and never past the end of cfg, for
// ParseLayout. A capability whose bytes cannot be read whole is returned
// short, and ParseCap rejects it.
func CapBytes(cfg dev.Regs, offsets []uint16) [][]byte {
	out := make([][]byte, 0, len(offsets))
	for _, off := range offsets {
		o := uint64(off)
		if o+3 > cfg.Len() {
			out = append(out, nil)
			continue
		}
		n := min(uint64(cfg.Read8(o+2)), cfg.Len()-o)
		b := make([]byte, n)
		for i := range b {
			b[i] = cfg.Read8(o + uint64(i))
		}
		out = append(out, b)
	}
	return out
}
