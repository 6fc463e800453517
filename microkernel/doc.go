// Command valence is the Valence kernel. The Go runtime starts it like a
// Linux program, but in ring 0 on bare hardware: package rt has already
// brought up the CPU, memory, interrupts and the timer, and answers the
// runtime's system calls. main finishes platform bring-up (ACPI, the I/O
// APIC, the initfs) and then runs the self-test or the console monitor,
// as the kernel command line says.
package main
