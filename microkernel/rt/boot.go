package rt

import (
	"runtime"

	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/clock"
	"valence.dev/microkernel/console"
	"valence.dev/microkernel/klog"
	"valence.dev/microkernel/mm"
	"valence.dev/microkernel/multiboot"
	"valence.dev/microkernel/sched"
)

// Version is the kernel's version.
const Version = "0.1.0"

// bootStackSize must match BOOT_STACK in boot_amd64.s. The boot stack
// becomes the stack of the runtime's first thread (g0 of m0).
const bootStackSize = 256 << 10

// Boot-time state shared with boot_amd64.s. Only integers, so no write
// barrier is ever involved, and all in bss so they exist before anything
// runs.
var (
	// bootData is filled by entry32; field offsets are fixed by the assembly.
	bootData struct {
		Magic      uint32 // 0
		Info       uint32 // 4
		TSC        uint64 // 8
		NX         uint32 // 16
		PageTables uint32 // 20: physical address of the boot PML4
	}
	bootPageTables [9 * 512]uint64
	bootGDT        [3]uint64
	bootGDTR       [2]uint64
	bootStack      [bootStackSize / 8]uint64
	bootG          [trapGSize / 8]uintptr
	bootTLS        [2]uintptr
	idleTLS        [2]uintptr
	spareTLS       [2]uintptr
	idleStack      [4096 / 8]uint64
	// runtimeSP is where entry64 points RSP before jumping into the runtime.
	runtimeSP uintptr
	// tlsSlot is the address of the word at -8(FS) of the running thread.
	tlsSlot uintptr

	mbInfo    multiboot.Info
	bootStats BootStats
)

// BootStats records facts about the boot for the kernel's main to report.
type BootStats struct {
	EntryTSC      uint64
	EarlyDoneTSC  uint64 // when earlyMain handed over to the runtime
	Mem           mm.Summary
	Cmdline       []byte
	TimerHz       int
	LAPICTicksSec uint64
	EntryPhys     uint64
}

// Stats returns the boot facts.
func Stats() *BootStats { return &bootStats }

// BootInfo returns the Multiboot information.
func BootInfo() *multiboot.Info { return &mbInfo }

// entry32 is the Multiboot entry point (boot_amd64.s). It is never called
// from Go; tools/mkimage finds it by symbol name.
func entry32()

// entry64 and entry64high continue entry32 in 64-bit mode (boot_amd64.s).
func entry64()
func entry64high()

// entry32Addr returns the link address of entry32 (boot_amd64.s); calling it
// also keeps the boot code from being discarded by the linker.
func entry32Addr() uintptr

// earlyMain runs on the boot stack before the Go runtime exists, called by
// entry64. It may use only statically initialised data: package
// initialisers have not run. Any failure is fatal.
func earlyMain() {
	bootStats.EntryTSC = bootData.TSC
	console.Init()
	if !tablesStatic() {
		earlyPanic("rt: the system call table was not statically initialised")
	}
	clock.Init(bootData.TSC, clock.CalibrateTSC())
	var l klog.Line
	l.S("Valence ").S(Version).S(" (").S(runtime.Version()).S(") booting on x86_64").Emit()
	l.S("console: COM1 at ").X(amd64.COM1).S(", 115200 8N1").Emit()
	if bootData.Magic != multiboot.BootloaderMagic {
		earlyPanic("boot: not started by a Multiboot loader")
	}
	if err := multiboot.Parse(physMemory{}, bootData.Magic, uint64(bootData.Info), &mbInfo); err != nil {
		earlyPanic("boot: bad Multiboot information")
	}
	bootStats.Cmdline = mbInfo.Cmdline
	findSymbolModule()
	bootStats.EntryPhys = uint64(entry32Addr()) - mm.KernelBase

	setupCPU()
	setupMemory()
	setupTimer()
	initTrapStacks()
	initUserEntry()
	sched.Init(uint64(idleLoopAddr()), uint64(addrOfWords(idleStack[:]))+uint64(len(idleStack)*8),
		uint64(addrOfUintptrs(idleTLS[:]))+8, uint64(addrOfUintptrs(bootTLS[:]))+8)
	syncFS()
	seedRandom()
	buildRuntimeStack()
	bootStats.EarlyDoneTSC = amd64.Rdtsc()
}

// earlyPanic reports a failure before the runtime exists and stops.
func earlyPanic(msg string) {
	var l klog.Line
	l.S("Kernel panic - not syncing: ").S(msg).Emit()
	amd64.DebugExit(1)
	amd64.HaltForever()
}

// physMemory gives the Multiboot parser access to physical memory through
// the direct map, which covers the first 4 GiB during boot.
type physMemory struct{}

func (physMemory) Slice(pa, n uint64) ([]byte, bool) {
	if pa+n < pa || pa+n > 4<<30 {
		return nil, false
	}
	return mm.PhysBytes(pa, n), true
}

// imageSegments holds the kernel's own segments for mm (static: this runs
// before the Go runtime can allocate).
var imageSegments [mm.MaxImageSegments]mm.Segment

func setupMemory() {
	kernStart := bootStats.EntryPhys &^ (2<<20 - 1) // the image starts at a 2 MiB boundary
	// The first loadable segment starts with the ELF header and program
	// headers (the linker puts them at file offset 0), so the kernel can
	// read its own segment permissions there.
	nsegs, err := mm.ImageSegments(mm.PhysBytes(kernStart, mm.PageSize), imageSegments[:])
	if err != nil {
		earlyPanic(err.Error())
	}
	layout := mm.BootLayout{
		PML4:        uint64(bootData.PageTables),
		NX:          bootData.NX != 0,
		KernelStart: kernStart - mm.PageSize, // the Multiboot header page precedes the image
		KernelEnd:   uint64(kernelEnd()) - mm.KernelBase,
		Segments:    imageSegments[:nsegs],
	}
	mm.SetKernelImageEnd(uint64(kernelEnd()))
	s, err := mm.Init(&mbInfo, layout)
	if err != nil {
		earlyPanic(err.Error())
	}
	bootStats.Mem = s
	var l klog.Line
	l.S("mm: ").U(s.Available >> 20).S(" MiB usable in ").U(uint64(s.Regions)).S(" regions, ").
		U(s.Free >> 20).S(" MiB free (").U(s.Reserve >> 20).S(" MiB reserved for the kernel heap); kernel ").X(layout.KernelStart).S("-").X(layout.KernelEnd).
		S(", direct map at ").X(mm.DirectMapBase).Emit()
	nx := "off"
	if layout.NX {
		nx = "on"
	}
	l.S("mm: 4-level paging, NX ").S(nx).S(", kernel heap window ").X(mm.HeapBase).S("-").X(mm.HeapBase + mm.HeapSize).Emit()
	l.S("mm: kernel image W^X: ").U(s.Image.Exec >> 10).S(" KiB r-x, ").U(s.Image.ReadOnly >> 10).S(" KiB r--, ").
		U(s.Image.Write >> 10).S(" KiB rw-; direct map no-exec").Emit()
}

// entryPhys is the physical address of entry32. Computing it in an
// initialiser makes entry32 reachable from Go, and with it the whole boot
// and trap path, which otherwise only assembly references and the linker
// would discard.
var entryPhys = uint64(entry32Addr()) - mm.KernelBase

// EntryPhys returns the physical address of the Multiboot entry point.
func EntryPhys() uint64 { return entryPhys }
