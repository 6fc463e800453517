// Package qemu boots Valence under QEMU and lets a Go test talk to it over
// the serial console.
//
// # Why a harness
//
// The kernel's contract with the outside world is mostly text: log lines on
// the serial port, a monitor prompt that reads commands, and an exit status
// that QEMU reports when the guest powers off or writes to the debug-exit
// port. An end-to-end test therefore wants three things: a boot image, a
// running machine whose console it can read and write, and good diagnostics
// when the conversation goes wrong. This package provides exactly that and
// nothing more, so that every end-to-end test reads like a script:
//
//	m := qemu.Boot(t, qemu.Options{Cmdline: "selftest"})
//	m.Expect(`selftest: PASS`, 5*time.Minute)
//	if code := m.ExpectExit(time.Minute); code != 0 { ... }
//
// # The image
//
// Image runs `make -C <root> image` once per test binary and returns the
// paths of the multiboot kernel, the initial file system and the kernel
// symbol table under <root>/build/image. The repository root is the nearest
// directory at or above the working directory that holds go.work. Setting
// VALENCE_NO_BUILD=1 skips make, for the case where the Makefile has just
// built the image and is now running the tests.
//
// # The machine
//
// Boot finds QEMU (the QEMU environment variable, else qemu-system-x86_64 on
// PATH), builds its command line with Args, and starts it with the serial
// console wired to QEMU's standard input and output. Standard error is kept
// apart and shown only when something fails. A missing QEMU skips the test
// on a developer's machine but fails it when CI=true, because there a skip
// would silently hide the whole suite.
//
// Args is the single definition of the QEMU command line; the Makefile's
// run target mirrors it. Two details matter. First, the initial file system
// and the symbol table travel as multiboot modules in one -initrd value,
// "path args,path args", so a path holding a comma or white space cannot be
// expressed and is rejected rather than silently misparsed. Second, the
// machine is told not to reboot (-no-reboot, -action reboot=shutdown): a
// kernel that triple-faults ends the run instead of looping forever.
//
// # Talking to the console
//
// Console output is collected as it arrives, with every "\r\n" (and any run
// of carriage returns before a newline) turned into "\n", so that regular
// expressions can use ^ and $ with (?m) the usual way. A bare "\r", such as
// a console's echo of the Enter key, stays as it is. Expect waits until a
// regular expression matches the output that follows the previous match,
// which makes a sequence of Expect calls read the console front to back and
// never match the same text twice. Send writes to the console in chunks of
// at most 16 bytes with a short pause between them, because the guest sees a
// 16550 UART whose receive FIFO holds 16 bytes and a kernel running under
// software emulation can be slow to drain it.
//
// # Timeouts and diagnostics
//
// Every wait has its own timeout, and the machine as a whole has an overall
// deadline (Options.Timeout, five minutes by default) after which QEMU is
// killed. QEMU runs under TCG, software emulation, on small shared machines,
// so the defaults are generous; when the test binary itself has a -timeout,
// the overall deadline is shortened to end well before it, so that the
// harness, not the testing package's panic, reports the failure. When a
// wait fails the test fails with the expectation and the last few KiB of
// console output. At the end of a failed test the harness logs the whole
// console output and QEMU's standard error, and writes the console output
// to <root>/build/test-logs/<TestName>.log (or to the directory named by
// VALENCE_TEST_LOG_DIR) so that CI can keep it as an artifact.
//
// # Log lines
//
// The kernel timestamps its log lines the way Linux does,
// "[    0.123456] text". LogLine recognises such a line and ParseLog turns
// console output into a slice of LogEntry values, which is what tests about
// the boot sequence compare.
//
// # Testing the harness
//
// The harness's own tests do not need a kernel or QEMU: the test binary
// re-executes itself as a fake QEMU that follows a small script (print this,
// wait for that input, exit with this status), selected through the QEMU
// environment variable exactly as a real QEMU would be.
package qemu
