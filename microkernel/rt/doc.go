// Package rt is the ring-0 layer beneath the Go runtime that runs the
// kernel: the boot path from the first instruction to the runtime's entry
// point, the trap entry and exit paths, and the answers to the system calls
// the kernel's own Go runtime makes (mmap, clone, futex, nanosleep,
// epoll/eventfd, clock_gettime, signals, ...), so that an unmodified runtime
// runs in ring 0 believing it runs on Linux.
//
// Boot (boot_amd64.s, boot.go): entry32 builds page tables and enters long
// mode; entry64 moves to the higher half; earlyMain brings up the console,
// clock, memory, descriptor tables, interrupt controllers and the timer, and
// lays out argc/argv/envp/auxv the way Linux starts a process; then the Go
// runtime starts at _rt0_amd64_linux and eventually calls the kernel's main.
//
// Traps (trap_amd64.s, trap.go): every interrupt, exception and SYSCALL lands
// in trapcommon, which saves registers and FPU state on a dedicated trap
// stack and calls trap. trap runs ordinary Go code under strict rules: the Go
// runtime may be in any state (holding its locks, in the middle of a
// garbage collection), so this code must never allocate, never take a write
// barrier (no Go pointers are stored, only integers and indices), and never
// block; it runs with interrupts disabled, on one CPU, so it needs no locks.
// It may switch threads or deliver a signal by rewriting the saved frame.
//
// System calls (sys_*.go): table.go is the declarative table, one row per
// call with its handler and how completely it is supported. A call not in the
// table gets ENOSYS and is logged once by name. Pointers the runtime passes
// are kernel addresses; they are checked to be in the kernel half before use.
// Memory they point at may not be committed yet, in which case touching it
// takes a nested page fault that the page-fault stack serves.
//
// Faults: a page fault in the kernel heap window is demand paging. Any other
// fault in kernel code becomes the signal Linux would send (SIGSEGV, SIGILL,
// SIGFPE, SIGBUS, SIGTRAP), delivered on the faulting thread so the Go
// runtime turns it into a panic with a symbolized traceback. Faults the
// runtime cannot take (inside trap handling, a double fault, a signal with no
// handler) end in panic.go's kernel panic: cause, registers, a call trace
// symbolized from the kernel symbol table module, and QEMU's exit with a
// failure status.
package rt
