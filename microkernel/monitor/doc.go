// Package monitor is the kernel's built-in console monitor: a small command
// interpreter on the serial console for the time before init and a shell
// exist. It reads lines with echo and basic editing (backspace, ^U, ^C) and
// runs commands that inspect the kernel: uptime, memory, the log, the
// initfs, and power off.
package monitor
