package amd64

// PICDisable remaps the two 8259A PICs to vectors 0x20-0x2F, so that a
// spurious interrupt cannot be mistaken for a CPU exception, and masks every
// line: interrupts are routed through the I/O APIC instead (8259A datasheet,
// ICW1-ICW4 and OCW1).
func PICDisable() {
	const master, slave = 0x20, 0xA0
	Outb(master, 0x11) // ICW1: edge, cascade, ICW4 needed
	Outb(slave, 0x11)
	Outb(master+1, 0x20) // ICW2: vector base
	Outb(slave+1, 0x28)
	Outb(master+1, 0x04) // ICW3: slave on IRQ2
	Outb(slave+1, 0x02)
	Outb(master+1, 0x01) // ICW4: 8086 mode
	Outb(slave+1, 0x01)
	Outb(master+1, 0xFF) // OCW1: mask all
	Outb(slave+1, 0xFF)
}
