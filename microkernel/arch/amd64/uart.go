package amd64

// The 16550 UART on COM1 (PC16550D datasheet, "Registers"). The kernel
// console writes by polling the transmitter and reads from the receive
// interrupt (IRQ 4).
const (
	COM1    = 0x3F8
	COM1IRQ = 4

	uartData    = 0 // RBR/THR (DLAB=0), divisor low (DLAB=1)
	uartIER     = 1 // interrupt enable (DLAB=0), divisor high (DLAB=1)
	uartFCR     = 2 // FIFO control (write)
	uartLCR     = 3 // line control
	uartMCR     = 4 // modem control
	uartLSR     = 5 // line status
	lsrDataRdy  = 1 << 0
	lsrTHREmpty = 1 << 5
)

// UARTInit programs port base for 115200 baud 8N1 and the receive-data
// interrupt on (OUT2 must be set in MCR to gate the interrupt to
// the interrupt controller).
func UARTInit(base uint16) {
	Outb(base+uartIER, 0)
	Outb(base+uartLCR, 0x80) // DLAB
	Outb(base+uartData, 1)   // divisor 1: 115200 baud
	Outb(base+uartIER, 0)
	Outb(base+uartLCR, 0x03) // 8 bits, no parity, one stop bit
	// FIFOs stay off (16450 mode): turning them on discards whatever the
	// UART holds, and typed-ahead input arriving meanwhile would be lost.
	// Without a FIFO the emulated UART does not accept the next byte until
	// this one is read, so nothing is ever dropped.
	Outb(base+uartFCR, 0x00)
	Outb(base+uartMCR, 0x0B) // DTR, RTS, OUT2
	Outb(base+uartIER, 0x01) // receive data available interrupt
}

// UARTPresent checks that a UART answers at base, using the scratch register.
func UARTPresent(base uint16) bool {
	Outb(base+7, 0x5A)
	return Inb(base+7) == 0x5A
}

// UARTPutc writes one byte, waiting for the transmit holding register.
func UARTPutc(base uint16, c byte) {
	for i := 0; i < 1<<20 && Inb(base+uartLSR)&lsrTHREmpty == 0; i++ {
		Pause()
	}
	Outb(base+uartData, c)
}

// UARTGetc returns a received byte, if any.
func UARTGetc(base uint16) (byte, bool) {
	if Inb(base+uartLSR)&lsrDataRdy == 0 {
		return 0, false
	}
	return Inb(base + uartData), true
}
