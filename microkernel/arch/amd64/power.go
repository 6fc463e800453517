package amd64

// QEMU's isa-debug-exit device (-device isa-debug-exit,iobase=0xf4,iosize=4)
// ends the emulator with status (v<<1)|1 when v is written to its port. The
// kernel uses it only for failures: a clean power-off goes through ACPI and
// makes QEMU exit with status 0.
const DebugExitPort = 0xF4

// DebugExit asks QEMU to exit with status (code<<1)|1. If the device is
// absent the write is ignored and the caller must halt.
func DebugExit(code uint8) { Outl(DebugExitPort, uint32(code)) }

// HaltForever disables interrupts and halts the CPU for good.
func HaltForever() {
	for {
		DisableInterrupts()
		Halt()
	}
}
