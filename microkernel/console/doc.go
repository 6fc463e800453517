// Package console is the kernel's serial console on COM1.
//
// Output is written synchronously by polling the UART, with interrupts
// disabled for the length of each write, so that lines written from trap
// handlers, from the boot path and from goroutines never interleave
// mid-line. Line feeds become CR LF, as a terminal in raw mode expects;
// WriteRaw sends bytes unchanged, for the user terminal (package tty),
// whose line discipline does its own output processing (OPOST, ONLCR).
//
// Input is interrupt driven: the COM1 receive interrupt (IRQ 4) moves each byte
// the UART received into a ring buffer and bumps RxSeq; readers block in a futex
// wait on RxSeq (through the Go runtime's own futex system call, which the
// kernel answers), so a goroutine waiting for a key press costs nothing. When
// the ring is full, further input is dropped and counted.
//
// Output and the interrupt half are safe in trap context and before the Go
// runtime starts (no allocation, no locks beyond disabling interrupts); Read
// is for goroutines.
package console
