// Package klog is the kernel log: lines stamped with the time since boot, in
// the form Linux uses ("[    0.123456] text"), written to the console and
// kept in a ring buffer for dmesg.
//
// There are two ways in. Printf formats with fmt and may allocate, so it is
// for goroutines. Line builds a line in a fixed buffer on the caller's stack
// from strings and numbers and allocates nothing, so it is for the boot path
// before the Go runtime exists and for trap handlers. Both end in emit, which
// writes the whole line with interrupts disabled so lines never interleave.
//
// If the console's last output did not end a line (a program's output without
// a trailing newline), emit starts a new line first, so every log line begins
// at column zero with its timestamp.
package klog
