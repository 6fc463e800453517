package console

import (
	"sync/atomic"

	"valence.dev/microkernel/arch/amd64"
)

// Port is the UART the console uses.
const Port = amd64.COM1

var (
	lastByte byte = '\n' // last byte written, so klog can start lines cleanly
	present  bool
)

// Init programs the UART and reports whether one answered.
func Init() bool {
	present = amd64.UARTPresent(Port)
	if present {
		amd64.UARTInit(Port)
	}
	return present
}

// Write sends b to the console, translating "\n" to "\r\n". It returns
// len(b); the console never fails.
func Write(b []byte) int {
	fl := amd64.SaveFlagsAndDisable()
	writeLocked(b)
	amd64.RestoreFlags(fl)
	return len(b)
}

// WriteRaw sends b to the console unchanged: the terminal line
// discipline (package tty) has done its own output processing. It
// returns len(b).
func WriteRaw(b []byte) int {
	fl := amd64.SaveFlagsAndDisable()
	for _, c := range b {
		amd64.UARTPutc(Port, c)
		lastByte = c
	}
	amd64.RestoreFlags(fl)
	return len(b)
}

// WriteString is Write for a string.
func WriteString(s string) {
	fl := amd64.SaveFlagsAndDisable()
	for i := 0; i < len(s); i++ {
		putc(s[i])
	}
	amd64.RestoreFlags(fl)
}

// writeLocked writes with interrupts already disabled.
func writeLocked(b []byte) {
	for _, c := range b {
		putc(c)
	}
}

func putc(c byte) {
	if c == '\n' {
		amd64.UARTPutc(Port, '\r')
	}
	amd64.UARTPutc(Port, c)
	lastByte = c
}

// AtLineStart reports whether the last byte written ended a line.
func AtLineStart() bool { return lastByte == '\n' }

// Lock disables interrupts so that a caller can write several pieces as one
// unit with WriteLocked; Unlock restores them.
func Lock() uint64 { return amd64.SaveFlagsAndDisable() }

// Unlock ends a Lock section.
func Unlock(flags uint64) { amd64.RestoreFlags(flags) }

// WriteLocked writes while the caller holds Lock.
func WriteLocked(b []byte) { writeLocked(b) }

// Input ring, filled by Interrupt and drained by Read.
const ringSize = 4096

var (
	ring    [ringSize]byte
	rhead   uint32 // next byte to read
	rtail   uint32 // next free slot
	dropped atomic.Uint64
	// RxSeq increases whenever input arrives; readers futex-wait on it.
	RxSeq atomic.Uint32
)

// Interrupt handles the receive interrupt: it moves every byte waiting in the
// UART into the ring and reports whether any arrived (the caller then wakes
// futex waiters on RxSeq). Trap context only.
func Interrupt() bool {
	got := false
	for i := 0; i < 64; i++ {
		c, ok := amd64.UARTGetc(Port)
		if !ok {
			break
		}
		got = true
		if rtail-rhead >= ringSize {
			dropped.Add(1)
			continue
		}
		ring[rtail%ringSize] = c
		rtail++
	}
	if got {
		RxSeq.Add(1)
	}
	return got
}

// Dropped returns how many input bytes were lost to a full ring.
func Dropped() uint64 { return dropped.Load() }

// take moves buffered input into p with interrupts disabled.
func take(p []byte) int {
	fl := amd64.SaveFlagsAndDisable()
	n := 0
	for n < len(p) && rhead != rtail {
		p[n] = ring[rhead%ringSize]
		rhead++
		n++
	}
	amd64.RestoreFlags(fl)
	return n
}
