package amd64

// Model-specific registers the kernel programs (Intel SDM vol. 4, table 2-2;
// AMD APM vol. 2, appendix A).
const (
	MSRAPICBase     = 0x0000001B // IA32_APIC_BASE: local APIC physical base and enable bit
	MSRTSCDeadline  = 0x000006E0 // IA32_TSC_DEADLINE
	MSREFER         = 0xC0000080 // extended feature enables
	MSRSTAR         = 0xC0000081 // SYSCALL/SYSRET segment selectors
	MSRLSTAR        = 0xC0000082 // SYSCALL entry point in 64-bit mode
	MSRSFMASK       = 0xC0000084 // RFLAGS bits cleared by SYSCALL
	MSRFSBase       = 0xC0000100 // FS segment base (Go's TLS on linux/amd64)
	MSRGSBase       = 0xC0000101
	MSRKernelGSBase = 0xC0000102
)

// EFER bits.
const (
	EFERSCE = 1 << 0  // SYSCALL/SYSRET enable
	EFERLME = 1 << 8  // long mode enable
	EFERNXE = 1 << 11 // no-execute enable
)

// Control register bits.
const (
	CR0MP = 1 << 1  // monitor coprocessor: FWAIT honours TS
	CR0EM = 1 << 2  // x87 emulation (must be clear for SSE)
	CR0TS = 1 << 3  // task switched
	CR0WP = 1 << 16 // supervisor writes honour read-only pages
	CR0PG = 1 << 31

	CR4PAE        = 1 << 5
	CR4PGE        = 1 << 7
	CR4OSFXSR     = 1 << 9  // FXSAVE/FXRSTOR and SSE enabled
	CR4OSXMMEXCPT = 1 << 10 // unmasked SSE exceptions raise #XM
	CR4FSGSBASE   = 1 << 16
)

// RFLAGS bits.
const (
	FlagCF   = 1 << 0
	FlagTF   = 1 << 8
	FlagIF   = 1 << 9
	FlagDF   = 1 << 10
	FlagIOPL = 3 << 12
	FlagNT   = 1 << 14
	FlagRF   = 1 << 16
	FlagAC   = 1 << 18
	FlagID   = 1 << 21
)
