package pci

import "fmt"

// String formats f as one line of `lspci -nn`:
//
//	00:04.0 Non-Volatile memory controller [0108]: Red Hat, Inc. [1b36:0010] (rev 02)
//
// The revision is left out when zero, as lspci does. Valence keeps no
// device-name database, so only the vendor is named.
func (f *Function) String() string {
	s := fmt.Sprintf("%v %s [%02x%02x]: %s [%04x:%04x]",
		f.Addr, ClassName(f.Class, f.Subclass), f.Class, f.Subclass, VendorName(f.Vendor), f.Vendor, f.Device)
	if f.Revision != 0 {
		s += fmt.Sprintf(" (rev %02x)", f.Revision)
	}
	return s
}

// VendorName names a vendor ID (assigned by the PCI-SIG), or returns
// "Device" for one not in Valence's short table, as lspci does.
func VendorName(vendor uint16) string {
	if n, ok := vendorNames[vendor]; ok {
		return n
	}
	return "Device"
}

var vendorNames = map[uint16]string{
	0x1022: "Advanced Micro Devices, Inc. [AMD]",
	0x10de: "NVIDIA Corporation",
	0x1234: "QEMU", // QEMU's own devices (std VGA, edu); not a PCI-SIG member
	0x144d: "Samsung Electronics Co Ltd",
	0x15ad: "VMware",
	0x1af4: "Red Hat, Inc.", // virtio devices
	0x1b36: "Red Hat, Inc.", // QEMU's own devices
	0x8086: "Intel Corporation",
}

// ClassName names a class and subclass (PCI Code and ID Assignment 1.11
// §1): the subclass's name if known, otherwise the class's, otherwise
// "Class xx".
func ClassName(class, subclass uint8) string {
	c, ok := classes[class]
	if !ok {
		return fmt.Sprintf("Class %02x", class)
	}
	if n, ok := c.sub[subclass]; ok {
		return n
	}
	return c.name
}

type classInfo struct {
	name string
	sub  map[uint8]string
}

// classes is the base class and subclass table of the PCI Code and ID
// Assignment Specification 1.11, §1.1-1.20 (0x00-0x13) and §1.21 (0x40,
// 0xff), named as lspci names them.
var classes = map[uint8]classInfo{
	0x00: {"Unclassified device", map[uint8]string{
		0x00: "Non-VGA unclassified device", 0x01: "VGA compatible unclassified device", 0x05: "Image coprocessor"}},
	0x01: {"Mass storage controller", map[uint8]string{
		0x00: "SCSI storage controller", 0x01: "IDE interface", 0x02: "Floppy disk controller",
		0x03: "IPI bus controller", 0x04: "RAID bus controller", 0x05: "ATA controller",
		0x06: "SATA controller", 0x07: "Serial Attached SCSI controller",
		0x08: "Non-Volatile memory controller", 0x09: "Universal Flash Storage controller",
		0x80: "Mass storage controller"}},
	0x02: {"Network controller", map[uint8]string{
		0x00: "Ethernet controller", 0x01: "Token ring network controller", 0x02: "FDDI network controller",
		0x03: "ATM network controller", 0x04: "ISDN controller", 0x05: "WorldFip controller",
		0x06: "PICMG controller", 0x07: "Infiniband controller", 0x08: "Fabric controller",
		0x80: "Network controller"}},
	0x03: {"Display controller", map[uint8]string{
		0x00: "VGA compatible controller", 0x01: "XGA compatible controller", 0x02: "3D controller",
		0x80: "Display controller"}},
	0x04: {"Multimedia controller", map[uint8]string{
		0x00: "Multimedia video controller", 0x01: "Multimedia audio controller",
		0x02: "Computer telephony device", 0x03: "Audio device", 0x80: "Multimedia controller"}},
	0x05: {"Memory controller", map[uint8]string{
		0x00: "RAM memory", 0x01: "FLASH memory", 0x02: "CXL", 0x80: "Memory controller"}},
	0x06: {"Bridge", map[uint8]string{
		0x00: "Host bridge", 0x01: "ISA bridge", 0x02: "EISA bridge", 0x03: "MicroChannel bridge",
		0x04: "PCI bridge", 0x05: "PCMCIA bridge", 0x06: "NuBus bridge", 0x07: "CardBus bridge",
		0x08: "RACEway bridge", 0x09: "Semi-transparent PCI-to-PCI bridge",
		0x0a: "InfiniBand to PCI host bridge", 0x80: "Bridge"}},
	0x07: {"Communication controller", map[uint8]string{
		0x00: "Serial controller", 0x01: "Parallel controller", 0x02: "Multiport serial controller",
		0x03: "Modem", 0x04: "GPIB controller", 0x05: "Smart Card controller",
		0x80: "Communication controller"}},
	0x08: {"Generic system peripheral", map[uint8]string{
		0x00: "PIC", 0x01: "DMA controller", 0x02: "Timer", 0x03: "RTC", 0x04: "PCI Hot-plug controller",
		0x05: "SD Host controller", 0x06: "IOMMU", 0x80: "System peripheral"}},
	0x09: {"Input device controller", map[uint8]string{
		0x00: "Keyboard controller", 0x01: "Digitizer Pen", 0x02: "Mouse controller",
		0x03: "Scanner controller", 0x04: "Gameport controller", 0x80: "Input device controller"}},
	0x0a: {"Docking station", map[uint8]string{0x00: "Generic Docking Station", 0x80: "Docking Station"}},
	0x0b: {"Processor", map[uint8]string{
		0x00: "386", 0x01: "486", 0x02: "Pentium", 0x10: "Alpha", 0x20: "Power PC", 0x30: "MIPS",
		0x40: "Co-processor"}},
	0x0c: {"Serial bus controller", map[uint8]string{
		0x00: "FireWire (IEEE 1394)", 0x01: "ACCESS Bus", 0x02: "SSA", 0x03: "USB controller",
		0x04: "Fibre Channel", 0x05: "SMBus", 0x06: "InfiniBand", 0x07: "IPMI Interface",
		0x08: "SERCOS interface", 0x09: "CANBUS", 0x80: "Serial bus controller"}},
	0x0d: {"Wireless controller", map[uint8]string{
		0x00: "IRDA controller", 0x01: "Consumer IR controller", 0x10: "RF controller", 0x11: "Bluetooth",
		0x12: "Broadband", 0x20: "802.1a controller", 0x21: "802.1b controller",
		0x80: "Wireless controller"}},
	0x0e: {"Intelligent controller", map[uint8]string{0x00: "I2O"}},
	0x0f: {"Satellite communications controller", map[uint8]string{
		0x01: "Satellite TV controller", 0x02: "Satellite audio communication controller",
		0x03: "Satellite voice communication controller", 0x04: "Satellite data communication controller"}},
	0x10: {"Encryption controller", map[uint8]string{
		0x00: "Network and computing encryption device", 0x10: "Entertainment encryption device",
		0x80: "Encryption controller"}},
	0x11: {"Signal processing controller", map[uint8]string{
		0x00: "DPIO module", 0x01: "Performance counters", 0x10: "Communication synchronizer",
		0x20: "Signal processing management", 0x80: "Signal processing controller"}},
	0x12: {"Processing accelerators", nil},
	0x13: {"Non-Essential Instrumentation", nil},
	0x40: {"Coprocessor", nil},
	0xff: {"Unassigned class", nil},
}
