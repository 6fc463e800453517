package pci

import "fmt"

// Address names a function: bus, device (0-31) and function (0-7).
type Address struct {
	Bus, Device, Function uint8
}

// String formats a as lspci does: "00:1f.3".
func (a Address) String() string {
	return fmt.Sprintf("%02x:%02x.%x", a.Bus, a.Device, a.Function)
}

// Function is what Scan learnt about one function. Everything in it was
// read from the device and checked: a value that broke a rule of the
// specifications is not here but described in Problems, so a driver may
// use whatever is present without checking it again.
type Function struct {
	Addr     Address
	Vendor   uint16
	Device   uint16
	Class    uint8
	Subclass uint8
	ProgIF   uint8
	Revision uint8
	// HeaderType is the layout of the header (bits 6:0): HeaderNormal,
	// HeaderBridge or HeaderCardBus.
	HeaderType uint8
	// Multifunction is bit 7 of the header type.
	Multifunction bool
	// SubsystemVendor and Subsystem are from a type 0 header; zero in
	// others.
	SubsystemVendor uint16
	Subsystem       uint16
	// InterruptLine is what firmware wrote there (meaningless to Valence,
	// kept for display); InterruptPin is 0 (none) or 1-4 (INTA#-INTD#).
	InterruptLine uint8
	InterruptPin  uint8

	// BARs are the implemented, valid BARs, in slot order.
	BARs []BAR
	// Caps is the capability list in the order walked.
	Caps []Capability
	// ExtCaps is the PCI Express extended capability list, if the
	// function has a PCI Express capability.
	ExtCaps []ExtCapability

	MSI        *MSI        // nil if absent or invalid
	MSIX       *MSIX       // nil if absent or invalid
	PCIe       *PCIe       // nil if absent or invalid
	VendorCaps []VendorCap // vendor-specific capabilities, valid ones only
	Bridge     *Bridge     // for a type 1 header

	// Problems describes each value the function reported that broke a
	// specification, and what was ignored because of it.
	Problems []string
}

func (f *Function) problem(format string, args ...any) {
	f.Problems = append(f.Problems, fmt.Sprintf(format, args...))
}

// BAR returns the BAR in slot i (for a 64-bit BAR, the slot of its low
// half), if it is implemented and valid.
func (f *Function) BAR(i int) (BAR, bool) {
	for _, b := range f.BARs {
		if b.Index == i {
			return b, true
		}
	}
	return BAR{}, false
}

// Bridge is the bus numbering of a PCI-to-PCI bridge (type 1 header,
// PCI-to-PCI Bridge Architecture 1.2 §3.2.5.3-5): the buses behind it are
// Secondary through Subordinate.
type Bridge struct {
	Primary     uint8
	Secondary   uint8
	Subordinate uint8
}

// Absent vendor IDs. A read of a function that does not exist completes
// with all ones (PCI Local Bus 3.0 §6.2.1: 0xFFFF is never a vendor); no
// vendor is assigned 0x0000, and some empty slots read as zeros, so that
// is taken as absent too.
const (
	vendorNone = 0xffff
	vendorZero = 0x0000
)

// Scan enumerates every function in s by brute force (PCI Local Bus 3.0
// §3.2.2.3.1, §6.2.1): each device 0-31 of each bus in range; functions
// 1-7 of a device only when function 0 has the multifunction bit. Buses
// are not discovered through bridges, so a window whose buses were not
// numbered by firmware finds only what is on its numbered buses.
//
// Scan sizes BARs, which for a moment turns off the function's decoding
// (see sizeBARs); nothing else is written, and every register is left as
// it was found. Scan returns an error only if s itself is unusable; what
// is wrong with a function is in its Problems.
func Scan(s Space) ([]Function, error) {
	first, last := s.Buses()
	if first > last {
		return nil, fmt.Errorf("pci: scan: bus range %#02x-%#02x is empty", first, last)
	}
	var fns []Function
	for bus := int(first); bus <= int(last); bus++ {
		for d := uint8(0); d < 32; d++ {
			c := s.Function(uint8(bus), d, 0)
			if !present(c) {
				continue
			}
			f0 := probe(c, Address{uint8(bus), d, 0})
			fns = append(fns, f0)
			if !f0.Multifunction {
				continue
			}
			for fn := uint8(1); fn < 8; fn++ {
				c := s.Function(uint8(bus), d, fn)
				if present(c) {
					fns = append(fns, probe(c, Address{uint8(bus), d, fn}))
				}
			}
		}
	}
	return fns, nil
}

func present(c Config) bool {
	v := c.Read16(RegVendor)
	return v != vendorNone && v != vendorZero
}

// probe reads and checks everything about the function at c.
func probe(c Config, a Address) Function {
	f := Function{
		Addr:     a,
		Vendor:   c.Read16(RegVendor),
		Device:   c.Read16(RegDevice),
		Revision: c.Read8(RegRevision),
		ProgIF:   c.Read8(RegProgIF),
		Subclass: c.Read8(RegSubclass),
		Class:    c.Read8(RegClass),
	}
	ht := c.Read8(RegHeaderType)
	f.HeaderType = ht &^ headerMulti
	f.Multifunction = ht&headerMulti != 0
	f.InterruptLine = c.Read8(RegIntLine)
	if pin := c.Read8(RegIntPin); pin <= 4 {
		f.InterruptPin = pin
	} else {
		f.problem("interrupt pin %d is not 0-4; taken as none", pin)
	}

	var nbars int
	switch f.HeaderType {
	case HeaderNormal:
		nbars = 6
		f.SubsystemVendor = c.Read16(regSubsystemVendor)
		f.Subsystem = c.Read16(regSubsystem)
	case HeaderBridge:
		nbars = 2
		f.Bridge = readBridge(c, &f)
	default:
		// A CardBus bridge (type 2) keeps its capability pointer
		// elsewhere and has no devices Valence can drive; any other
		// layout is undefined.
		f.problem("header type %#02x not supported; BARs and capabilities not read", f.HeaderType)
		return f
	}
	f.BARs = sizeBARs(c, nbars, &f)
	walkCaps(c, &f)
	return f
}

func readBridge(c Config, f *Function) *Bridge {
	b := &Bridge{
		Primary:     c.Read8(regPrimaryBus),
		Secondary:   c.Read8(regSecondaryBus),
		Subordinate: c.Read8(regSubordinateBus),
	}
	if b.Secondary > b.Subordinate {
		f.problem("bridge secondary bus %#02x is above its subordinate bus %#02x", b.Secondary, b.Subordinate)
		return nil
	}
	if b.Secondary != 0 && b.Secondary <= f.Addr.Bus {
		// Bus 0 means not yet numbered; otherwise buses behind a
		// bridge are numbered above the bridge's own.
		f.problem("bridge secondary bus %#02x is not above its own bus %#02x", b.Secondary, f.Addr.Bus)
		return nil
	}
	return b
}
