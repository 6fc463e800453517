package pci

import (
	"fmt"

	"valence.dev/drivers/lib/dev"
)

// Config is one function's configuration space (PCI Local Bus 3.0 §6.1;
// PCI Express Base r4.0 §7.2: 4096 bytes on PCI Express, of which the
// first 256 are the conventional space). Offsets are bytes from the start
// of the function's space. An offset past 4095, or not aligned to the
// access width, panics: that is a bug in the caller, never device
// behaviour, as with dev.Regs.
type Config interface {
	Read8(off uint16) uint8
	Read16(off uint16) uint16
	Read32(off uint16) uint32
	Write8(off uint16, v uint8)
	Write16(off uint16, v uint16)
	Write32(off uint16, v uint32)
}

// Space is a range of buses whose functions' configuration spaces can be
// reached: an ECAM window in Valence, a fake in tests.
type Space interface {
	// Buses returns the first and last bus of the range, inclusive.
	Buses() (first, last uint8)
	// Function returns the configuration space of bus:dev.fn, which must
	// lie inside the range (dev < 32, fn < 8); otherwise it panics.
	Function(bus, dev, fn uint8) Config
}

// ConfigSize is the size of one function's configuration space under ECAM.
const ConfigSize = 4096

// Sizes of the ECAM regions (PCI Express Base r4.0 §7.2.2):
// each function has 4 KiB, a device 8 functions, a bus 32 devices.
const (
	ecamFunctionShift = 12
	ecamDeviceShift   = 15
	ecamBusShift      = 20
	// ECAMBusSize is the bytes of ECAM window one bus takes (1 MiB).
	ECAMBusSize = 1 << ecamBusShift
)

// ECAM is the Enhanced Configuration Access Mechanism (PCI Express Base
// r4.0 §7.2.2): the configuration spaces of buses [first, last] mapped as
// memory, function bus:dev.fn at byte offset
// (bus-first)<<20 | dev<<15 | fn<<12 of the window.
type ECAM struct {
	regs        dev.Regs
	first, last uint8
}

// NewECAM returns the ECAM over regs, which must cover buses [first, last]
// (in ACPI terms, the MCFG entry's window starting at its first bus).
func NewECAM(regs dev.Regs, first, last uint8) (*ECAM, error) {
	if first > last {
		return nil, fmt.Errorf("pci: ECAM bus range %#02x-%#02x is empty", first, last)
	}
	need := uint64(last-first+1) << ecamBusShift
	if regs.Len() < need {
		return nil, fmt.Errorf("pci: ECAM window of %#x bytes is too small for buses %#02x-%#02x (%#x bytes)",
			regs.Len(), first, last, need)
	}
	return &ECAM{regs: regs, first: first, last: last}, nil
}

// Buses implements Space.
func (e *ECAM) Buses() (first, last uint8) { return e.first, e.last }

// Function implements Space.
func (e *ECAM) Function(bus, dev, fn uint8) Config {
	if bus < e.first || bus > e.last || dev >= 32 || fn >= 8 {
		panic(fmt.Sprintf("pci: function %02x:%02x.%x is outside the ECAM window of buses %02x-%02x",
			bus, dev, fn, e.first, e.last))
	}
	base := uint64(bus-e.first)<<ecamBusShift | uint64(dev)<<ecamDeviceShift | uint64(fn)<<ecamFunctionShift
	return &ecamConfig{regs: e.regs, base: base}
}

// ecamConfig is one function's 4 KiB page of an ECAM window. Its own
// bounds check matters: dev.Regs only checks the whole window, so without
// it an offset past 4095 would silently reach the next function.
type ecamConfig struct {
	regs dev.Regs
	base uint64
}

func (c *ecamConfig) at(off uint16, width uint16) uint64 {
	if off%width != 0 || uint32(off)+uint32(width) > ConfigSize {
		panic(fmt.Sprintf("pci: %d-byte configuration access at %#x", width, off))
	}
	return c.base + uint64(off)
}

func (c *ecamConfig) Read8(off uint16) uint8       { return c.regs.Read8(c.at(off, 1)) }
func (c *ecamConfig) Read16(off uint16) uint16     { return c.regs.Read16(c.at(off, 2)) }
func (c *ecamConfig) Read32(off uint16) uint32     { return c.regs.Read32(c.at(off, 4)) }
func (c *ecamConfig) Write8(off uint16, v uint8)   { c.regs.Write8(c.at(off, 1), v) }
func (c *ecamConfig) Write16(off uint16, v uint16) { c.regs.Write16(c.at(off, 2), v) }
func (c *ecamConfig) Write32(off uint16, v uint32) { c.regs.Write32(c.at(off, 4), v) }

// Registers of the configuration header common to all header types (PCI
// Local Bus 3.0 §6.1, Figure 6-1), and of the type 0 and type 1 headers
// (§6.1; PCI-to-PCI Bridge Architecture 1.2 §3.2).
const (
	RegVendor     = 0x00
	RegDevice     = 0x02
	RegCommand    = 0x04
	RegStatus     = 0x06
	RegRevision   = 0x08
	RegProgIF     = 0x09
	RegSubclass   = 0x0a
	RegClass      = 0x0b
	RegHeaderType = 0x0e
	RegBAR0       = 0x10
	RegCapPtr     = 0x34
	RegIntLine    = 0x3c
	RegIntPin     = 0x3d

	regSubsystemVendor = 0x2c // type 0 only
	regSubsystem       = 0x2e // type 0 only
	regPrimaryBus      = 0x18 // type 1 only
	regSecondaryBus    = 0x19 // type 1 only
	regSubordinateBus  = 0x1a // type 1 only
)

// Command register bits (PCI Local Bus 3.0 §6.2.2).
const (
	CmdIO          = 1 << 0  // respond to I/O space accesses
	CmdMemory      = 1 << 1  // respond to memory space accesses
	CmdBusMaster   = 1 << 2  // may issue memory requests (DMA, MSI)
	CmdINTxDisable = 1 << 10 // may not assert INTx
)

// statusCapList is the Status register's Capabilities List bit (PCI Local
// Bus 3.0 §6.2.3): the capability pointer at 0x34 is valid.
const statusCapList = 1 << 4

// Header types (PCI Local Bus 3.0 §6.2.1): bits 6:0 the layout, bit 7
// multifunction.
const (
	HeaderNormal  = 0x00
	HeaderBridge  = 0x01
	HeaderCardBus = 0x02
	headerMulti   = 0x80
)

// SetCommand sets the bits set and then clears the bits clear in the
// Command register of c, leaving the others as they are.
func SetCommand(c Config, set, clear uint16) {
	c.Write16(RegCommand, (c.Read16(RegCommand)|set)&^clear)
}

// EnableMemory makes the function respond to accesses to its memory BARs.
func EnableMemory(c Config) { SetCommand(c, CmdMemory, 0) }

// EnableIO makes the function respond to accesses to its I/O BARs.
func EnableIO(c Config) { SetCommand(c, CmdIO, 0) }

// EnableBusMaster lets the function issue DMA and message-signalled
// interrupts (which are memory writes, PCI Local Bus 3.0 §6.8).
func EnableBusMaster(c Config) { SetCommand(c, CmdBusMaster, 0) }

// DisableINTx stops the function asserting its legacy interrupt pin, as a
// driver using MSI or MSI-X should.
func DisableINTx(c Config) { SetCommand(c, CmdINTxDisable, 0) }
