package amd64

import "gvisor.dev/gvisor/pkg/abi/linux"

// The signal frame of the x86-64 Linux ABI, which both the kernel's own Go
// runtime (package rt) and user programs (package proc) receive.

// SigContext is struct sigcontext for x86-64 (arch/x86/include/uapi/asm/
// sigcontext.h), 256 bytes. gvisor defines it only in its sentry, not in
// abi/linux, so it is restated here.
type SigContext struct {
	R8, R9, R10, R11, R12, R13, R14, R15 uint64
	RDI, RSI, RBP, RBX, RDX, RAX, RCX    uint64
	RSP, RIP, EFLAGS                     uint64
	CS, GS, FS, SS                       uint16
	Err, Trapno, Oldmask, CR2, Fpstate   uint64
	Reserved                             [8]uint64
}

// UContext is the kernel's struct ucontext (include/uapi/asm-generic/
// ucontext.h): uc_sigmask is at offset 296.
type UContext struct {
	Flags    uint64
	Link     uint64
	Stack    linux.SignalStack
	MContext SigContext
	Sigmask  linux.SignalSet
}

// RtSigframe is the frame Linux pushes for an SA_SIGINFO handler on x86-64
// (arch/x86/include/asm/sigframe.h): the return address (sa_restorer), the
// ucontext and the siginfo.
type RtSigframe struct {
	Pretcode uint64
	UC       UContext
	Info     linux.SignalInfo
}
