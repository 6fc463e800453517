package rt

import (
	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/clock"
	"valence.dev/microkernel/klog"
	"valence.dev/microkernel/ksym"
	"valence.dev/microkernel/mm"
	"valence.dev/microkernel/sched"
)

// Exit statuses QEMU reports through isa-debug-exit: (code<<1)|1.
const (
	exitPanic = 1 // status 3: kernel panic
)

// The kernel symbol table, a boot module made by tools/mkimage.
var ksymPA, ksymLen uint64

// findSymbolModule records where the kernel.sym module is.
func findSymbolModule() {
	for i := 0; i < mbInfo.NModules; i++ {
		m := &mbInfo.Modules[i]
		if lastWordIs(m.Cmdline, "ksym") {
			ksymPA, ksymLen = m.Start, m.End-m.Start
		}
	}
}

// Module returns the physical extent of the boot module whose command line
// ends with the word name.
func Module(name string) (start, end uint64, ok bool) {
	for i := 0; i < mbInfo.NModules; i++ {
		m := &mbInfo.Modules[i]
		if lastWordIs(m.Cmdline, name) {
			return m.Start, m.End, true
		}
	}
	return 0, 0, false
}

func lastWordIs(cmd []byte, w string) bool {
	end := len(cmd)
	for end > 0 && cmd[end-1] == ' ' {
		end--
	}
	start := end
	for start > 0 && cmd[start-1] != ' ' {
		start--
	}
	return string(cmd[start:end]) == w
}

func symbols() (ksym.Table, bool) {
	if ksymLen == 0 {
		return ksym.Table{}, false
	}
	t, err := ksym.Open(mm.PhysBytes(ksymPA, ksymLen))
	return t, err == nil && t.Len() > 0
}

// lastFault remembers the most recent fault turned into a signal, so that
// if the runtime then dies of it the panic report can show where it was.
var lastFault struct {
	valid bool
	frame amd64.Frame
	sig   int
	addr  uint64
	what  [64]byte // copied: storing the string would be a pointer write
	nwhat int
}

func noteFault(f *amd64.Frame, sig int, addr uint64, what string) {
	lastFault.valid = true
	lastFault.frame = *f
	lastFault.sig = sig
	lastFault.addr = addr
	lastFault.nwhat = copy(lastFault.what[:], what)
}

// panicking guards against a fault while printing a panic.
var panicking bool

// fatal is a kernel panic: it prints the cause, the registers and a call
// trace, then stops QEMU with a failure status. It never returns.
func fatal(f *amd64.Frame, what string, addr uint64) {
	amd64.DisableInterrupts()
	if panicking {
		var l klog.Line
		l.S("Kernel panic while panicking: ").S(what).Emit()
		stop()
	}
	panicking = true
	var l klog.Line
	l.S("Kernel panic - not syncing: ").S(what).Emit()
	if addr != 0 {
		l.S("fault address: ").X(addr).Emit()
	}
	dumpFrame(f)
	stop()
}

func stop() {
	var l klog.Line
	l.S("---[ end Kernel panic ]---").Emit()
	amd64.DebugExit(exitPanic)
	amd64.HaltForever()
}

// dumpFrame prints registers in the layout Linux uses, then a call trace
// found by following saved frame pointers (Go keeps RBP chains on amd64).
func dumpFrame(f *amd64.Frame) {
	syms, ok := symbols()
	var l klog.Line
	l.S("CPU: 0 TID: ").I(int64(sched.Current().TID)).S(" trap depth: ").I(int64(trapDepth)).Emit()
	l.S("RIP: ").X16(f.CS).S(":").X16(f.RIP).S(" ")
	symbolize(&l, syms, ok, f.RIP)
	l.Emit()
	l.S("RSP: ").X16(f.SS).S(":").X16(f.RSP).S(" EFLAGS: ").X16(f.RFLAGS).Emit()
	l.S("RAX: ").X16(f.RAX).S(" RBX: ").X16(f.RBX).S(" RCX: ").X16(f.RCX).Emit()
	l.S("RDX: ").X16(f.RDX).S(" RSI: ").X16(f.RSI).S(" RDI: ").X16(f.RDI).Emit()
	l.S("RBP: ").X16(f.RBP).S(" R08: ").X16(f.R8).S(" R09: ").X16(f.R9).Emit()
	l.S("R10: ").X16(f.R10).S(" R11: ").X16(f.R11).S(" R12: ").X16(f.R12).Emit()
	l.S("R13: ").X16(f.R13).S(" R14: ").X16(f.R14).S(" R15: ").X16(f.R15).Emit()
	l.S("CR2: ").X16(amd64.ReadCR2()).S(" CR3: ").X16(amd64.ReadCR3()).S(" CR4: ").X16(amd64.ReadCR4()).Emit()
	l.S("Vector: ").U(f.Vector).S(" (").S(vectorName(f.Vector)).S(") error code: ").X(f.ErrorCode).Emit()
	dumpStack(syms, ok, f.RSP)
	callTrace(syms, ok, f.RIP, f.RBP)
}

// dumpStack prints the words at the top of the stack, naming those that
// point into kernel text: when the frame-pointer chain is broken (a jump to
// a bad address, a fault in assembly), these are where to look.
func dumpStack(syms ksym.Table, ok bool, sp uint64) {
	var l klog.Line
	l.S("Stack:").Emit()
	for i := uint64(0); i < 12; i++ {
		a := sp + 8*i
		if a&7 != 0 || !readable(a) {
			break
		}
		v := *u64At(uintptr(a))
		l.S(" ").X16(a).S(": ").X16(v)
		if ok {
			if name, off, found := syms.Lookup(v); found {
				l.S(" ").B(name).S("+").X(off)
			}
		}
		l.Emit()
	}
}

func vectorName(v uint64) string {
	if v == amd64.SyscallVector {
		return "system call"
	}
	return amd64.ExceptionName(int(v))
}

func symbolize(l *klog.Line, syms ksym.Table, ok bool, pc uint64) {
	if !ok {
		l.S("?")
		return
	}
	name, off, found := syms.Lookup(pc)
	if !found {
		l.S("?")
		return
	}
	l.B(name).S("+").X(off)
}

// callTrace follows the frame-pointer chain from rbp, printing each return
// address with its symbol. Every frame address is checked to be mapped
// kernel memory before it is read, so a corrupt chain ends the trace
// instead of faulting.
func callTrace(syms ksym.Table, ok bool, pc, rbp uint64) {
	var l klog.Line
	l.S("Call Trace:").Emit()
	l.S(" [<").X16(pc).S(">] ")
	symbolize(&l, syms, ok, pc)
	l.Emit()
	for depth := 0; depth < 48; depth++ {
		if rbp&7 != 0 || !readable(rbp) || !readable(rbp+8) {
			break
		}
		next := *u64At(uintptr(rbp))
		ret := *u64At(uintptr(rbp + 8))
		if ret == 0 {
			break
		}
		l.S(" [<").X16(ret).S(">] ")
		symbolize(&l, syms, ok, ret)
		l.Emit()
		if next <= rbp {
			break
		}
		rbp = next
	}
}

// readable reports whether a kernel address is mapped, without touching it.
func readable(va uint64) bool {
	if va < 0xffff_8000_0000_0000 {
		return false
	}
	pte, ok := mm.Lookup(mm.KernelRoot(), va)
	if ok {
		return pte&amd64.PTEPresent != 0
	}
	// 2 MiB pages, which Lookup does not descend into: the direct map,
	// and the kernel image until mm.Init remaps it with 4 KiB pages.
	if va >= mm.KernelBase {
		return va >= mm.KernelBase+bootStats.EntryPhys&^(2<<20-1) && va < uint64(kernelEnd())
	}
	return va >= mm.DirectMapBase && va < mm.DirectMapBase+4<<30
}

// runtimeExited handles exit_group from the kernel's own runtime: main
// returned (status 0: power off) or the runtime died (a Go panic or fatal
// error, which it has already reported with a traceback: kernel panic).
func runtimeExited(f *amd64.Frame, code int) {
	amd64.DisableInterrupts()
	if code == 0 {
		PowerOff()
	}
	var l klog.Line
	l.S("Kernel panic - not syncing: Go runtime exited with status ").I(int64(code)).Emit()
	reportLastFault()
	stop()
}

// runtimeKilled handles a signal whose default action kills the process
// (the runtime raises SIGABRT after printing a fatal error with
// GOTRACEBACK=crash).
func runtimeKilled(f *amd64.Frame, sig int) {
	amd64.DisableInterrupts()
	var l klog.Line
	l.S("Kernel panic - not syncing: Go runtime killed by signal ").I(int64(sig)).Emit()
	reportLastFault()
	stop()
}

func reportLastFault() {
	if !lastFault.valid {
		return
	}
	var l klog.Line
	l.S("last fault: ").B(lastFault.what[:lastFault.nwhat]).S(" (signal ").I(int64(lastFault.sig)).S(") at ").X(lastFault.addr).Emit()
	dumpFrame(&lastFault.frame)
}

// PowerOff ends the machine cleanly: ACPI S5 when the kernel learned how
// (SetPowerOff), else QEMU's debug exit, which cannot report status 0.
func PowerOff() {
	amd64.DisableInterrupts()
	var l klog.Line
	l.S("reboot: Power down").Emit()
	for i := 0; i < nPowerOff; i++ {
		amd64.Outw(powerOff[i].port, powerOff[i].value)
	}
	// The emulator acts on the request asynchronously: give it a moment
	// before concluding that S5 did not happen.
	if nPowerOff > 0 {
		deadline := clock.Monotonic() + 2e9
		for clock.Monotonic() < deadline {
			amd64.Pause()
		}
	}
	l.S("reboot: ACPI power-off did not work; using QEMU's debug exit").Emit()
	amd64.DebugExit(0)
	amd64.HaltForever()
}

type portWrite struct {
	port, value uint16
}

var (
	powerOff  [4]portWrite
	nPowerOff int
)

// SetPowerOff records the port writes that enter ACPI S5 (from the FADT
// and the DSDT's \_S5 package), for PowerOff.
func SetPowerOff(ports, values []uint16) {
	fl := amd64.SaveFlagsAndDisable()
	nPowerOff = 0
	for i := 0; i < len(ports) && i < len(values) && i < len(powerOff); i++ {
		powerOff[i] = portWrite{ports[i], values[i]}
		nPowerOff++
	}
	amd64.RestoreFlags(fl)
}

// PowerOffPorts returns the I/O ports the kernel powers off through.
func PowerOffPorts() []uint16 {
	fl := amd64.SaveFlagsAndDisable()
	defer amd64.RestoreFlags(fl)
	out := make([]uint16, 0, nPowerOff)
	for _, w := range powerOff[:nPowerOff] {
		out = append(out, w.port)
	}
	return out
}

// Reset restarts the machine: the reset control register of the q35
// chipset (Intel ICH9 datasheet 13.7.5, RST_CNT at I/O port 0xCF9: bit 1
// system reset, bit 2 reset the CPU), then the 8042 keyboard controller's
// pulse of the reset line (command 0xFE on port 0x64), the way PCs have
// long been reset. QEMU run with -no-reboot exits instead.
func Reset() {
	amd64.DisableInterrupts()
	var l klog.Line
	l.S("reboot: Restarting system").Emit()
	amd64.Outb(0xcf9, 0x02)
	amd64.Outb(0xcf9, 0x06)
	deadline := clock.Monotonic() + 1e9
	for clock.Monotonic() < deadline {
		amd64.Pause()
	}
	amd64.Outb(0x64, 0xfe)
	amd64.HaltForever()
}
