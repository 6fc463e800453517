package amd64

// This file declares the CPU primitives implemented in cpu_amd64.s. None of
// them allocates or grows the stack, so they are safe in the boot path (before
// the Go runtime runs) and in trap handlers.

// Outb writes a byte to an I/O port (OUT imm8/DX, Intel SDM vol. 2B).
func Outb(port uint16, val uint8)

// Inb reads a byte from an I/O port.
func Inb(port uint16) uint8

// Outw writes a 16-bit word to an I/O port.
func Outw(port uint16, val uint16)

// Inw reads a 16-bit word from an I/O port.
func Inw(port uint16) uint16

// Outl writes a 32-bit word to an I/O port.
func Outl(port uint16, val uint32)

// Inl reads a 32-bit word from an I/O port.
func Inl(port uint16) uint32

// Rdmsr reads a model-specific register.
func Rdmsr(msr uint32) uint64

// Wrmsr writes a model-specific register.
func Wrmsr(msr uint32, val uint64)

// Rdtsc reads the time-stamp counter.
func Rdtsc() uint64

// Cpuid executes CPUID with EAX=leaf, ECX=sub.
func Cpuid(leaf, sub uint32) (a, b, c, d uint32)

// DisableInterrupts clears RFLAGS.IF (CLI).
func DisableInterrupts()

// EnableInterrupts sets RFLAGS.IF (STI).
func EnableInterrupts()

// SaveFlagsAndDisable returns RFLAGS and then disables interrupts; pair it
// with RestoreFlags to make a critical section that nests correctly.
func SaveFlagsAndDisable() uint64

// RestoreFlags loads RFLAGS (and so the interrupt flag) saved by
// SaveFlagsAndDisable.
func RestoreFlags(flags uint64)

// Flags returns RFLAGS.
func Flags() uint64

// Halt executes HLT with the interrupt flag as it is.
func Halt()

// WaitForInterrupt enables interrupts and halts in one step (STI's one
// instruction delay makes STI;HLT race-free), then disables them again.
func WaitForInterrupt()

// Pause is the spin-loop hint.
func Pause()

// ReadCR0 returns CR0.
func ReadCR0() uint64

// WriteCR0 sets CR0.
func WriteCR0(val uint64)

// ReadCR2 returns CR2, the faulting address of the last page fault.
func ReadCR2() uint64

// ReadCR3 returns CR3, the physical address of the active PML4.
func ReadCR3() uint64

// WriteCR3 switches page tables and flushes non-global TLB entries.
func WriteCR3(val uint64)

// ReadCR4 returns CR4.
func ReadCR4() uint64

// WriteCR4 sets CR4.
func WriteCR4(val uint64)

// Clflush writes the cache line containing va back to memory and
// invalidates it, for devices whose page walks do not snoop the CPU's
// caches (an IOMMU with ECAP.C clear; Intel SDM vol. 2A, CLFLUSH).
func Clflush(va uintptr)

// Invlpg drops the TLB entry for the page containing va.
func Invlpg(va uintptr)

// Lgdt loads the GDT register from the 10-byte pseudo-descriptor at ptr.
func Lgdt(ptr uintptr)

// Lidt loads the IDT register from the 10-byte pseudo-descriptor at ptr.
func Lidt(ptr uintptr)

// Ltr loads the task register with a TSS selector.
func Ltr(sel uint16)

// ReloadSegments makes code and data the active CS and DS/ES/SS selectors.
func ReloadSegments(code, data uint16)

// FillZero clears n 8-byte words starting at p (REP STOSQ).
func FillZero(p uintptr, n uintptr)

// CopyWords copies n 8-byte words from src to dst (REP MOVSQ).
func CopyWords(dst, src uintptr, n uintptr)
