// Package tty is the console as a terminal for user programs
// (/dev/console, /dev/tty, and the first process's descriptors 0, 1 and
// 2), with a canonical ("cooked") line discipline in the kernel.
//
// Input. A goroutine reads the device (package console's serial port in
// the kernel, a fake in tests) from the first read or poll on, and runs
// the discipline over what is typed: carriage return or newline ends a
// line (ICRNL), DEL and ^H erase a character, ^U the line, ^D at the
// start of a line is end of file and elsewhere delivers the line without
// a newline, ^C discards the line and interrupts the foreground process
// (the last process that read the terminal; there are no process groups
// yet), printable characters and tab are kept, up to 4095 a line, and
// other control characters dropped. What is typed is echoed. A read
// returns at most one line.
//
// Output goes to the device untranslated; the serial driver turns "\n"
// into "\r\n" (ONLCR). Termios reports these settings to TCGETS; they
// cannot be changed.
//
// Locking. Console.mu guards the line being edited, the complete lines
// and the foreground PID; echo, the wakeup and the interrupt happen after
// it is released.
package tty
