// Package tests holds Valence's end-to-end tests: each boots the real
// kernel image under QEMU and checks what it says on the serial console
// against the kernel's contract.
//
// # What is tested
//
// The contract is small and textual, and each file covers one part of it:
//
//   - boot_test.go: the boot log. The first log line is the banner naming
//     the version, the Go release and the architecture; every line that
//     looks like a log line really is one; timestamps never go backwards;
//     the runtime reports how long it took from the first instruction to
//     the kernel's main function; and each subsystem (console, cpu, mm,
//     timer, runtime, initfs) announces itself with a "<name>: " line.
//   - selftest_test.go: the "selftest" command line runs the in-kernel
//     tests, which report "selftest: <name>: ok" one by one and end with
//     "selftest: PASS" and a clean power-off, QEMU's exit status 0.
//   - panic_test.go: the two ways the kernel can die. A nil pointer
//     dereference in ordinary kernel Go code must produce a kernel panic
//     with a symbolized Go stack trace; a fault inside the trap handler,
//     where the Go runtime cannot help, must still produce a register dump
//     and a call trace. Either way QEMU must exit with a non-zero status
//     rather than hang or reboot.
//   - console_test.go: the monitor. It prompts with "valence# ", echoes,
//     reports its uptime, and powers the machine off on request.
//
// # How
//
// The tests use the harness in valence.dev/tests/qemu, which builds the
// image once per test binary with `make image`, starts QEMU with the
// console on its standard input and output, and reports the console output
// of a failed test in full. The tests run one after another, never in
// parallel: QEMU runs under software emulation on machines with two cores,
// and timing-sensitive kernels (timers, preemption) deserve a quiet host.
// Timeouts are minutes, not seconds, for the same reason.
//
// Every test needs qemu-system-x86_64. Without it the tests skip, except
// when CI=true, where a skip would hide the whole suite and so fails
// instead.
package tests
