package amd64

// The 8254 programmable interval timer (8254 datasheet). The kernel uses it
// only as a known-frequency reference to calibrate the TSC and the local APIC
// timer: channel 2 counts down once while software polls its output through
// port 0x61, so no interrupt is involved.
const (
	PITHz      = 1193182
	pitCh2     = 0x42
	pitCommand = 0x43
	pitGate    = 0x61
)

// PITOneShot starts channel 2 counting down from count (mode 0, interrupt on
// terminal count) with its output visible in bit 5 of port 0x61.
func PITOneShot(count uint16) {
	g := Inb(pitGate)
	Outb(pitGate, g&^0x02|0x01) // gate on, speaker off
	Outb(pitCommand, 0xB0)      // channel 2, lobyte/hibyte, mode 0, binary
	Outb(pitCh2, uint8(count))
	Outb(pitCh2, uint8(count>>8))
	// Restart the count by toggling the gate.
	g = Inb(pitGate)
	Outb(pitGate, g&^0x01)
	Outb(pitGate, g|0x01)
}

// PITDone reports whether the channel 2 count started by PITOneShot reached
// zero.
func PITDone() bool { return Inb(pitGate)&0x20 != 0 }

// PITStop disables channel 0's periodic interrupt source by putting it in
// one-shot mode with no count; firmware leaves it running at 18.2 Hz.
func PITStop() {
	Outb(pitCommand, 0x30) // channel 0, lobyte/hibyte, mode 0
	Outb(0x40, 0)
	Outb(0x40, 0)
}
