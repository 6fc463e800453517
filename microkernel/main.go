package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"valence.dev/microkernel/acpi"
	"valence.dev/microkernel/console"
	"valence.dev/microkernel/dma"
	"valence.dev/microkernel/initfs"
	"valence.dev/microkernel/klog"
	"valence.dev/microkernel/mm"
	"valence.dev/microkernel/monitor"
	"valence.dev/microkernel/proc"
	"valence.dev/microkernel/rt"
	"valence.dev/microkernel/selftest"
)

func main() {
	total, early := rt.RuntimeUpNanos()
	klog.Printf("runtime: up in %.1f ms (first instruction to kernel main; %.1f ms before the runtime started), %s, GOMAXPROCS=%d",
		float64(total)/1e6, float64(early)/1e6, runtime.Version(), runtime.GOMAXPROCS(0))
	setupACPI()
	fs := loadInitfs()
	proc.SetRoot(fs)
	args := os.Args[1:] // os.Args[0] is the kernel's path, from QEMU
	kargs := args       // the kernel's own: the words before "--"
	if i := slices.Index(args, "--"); i >= 0 {
		kargs = args[:i]
	}
	initPath := ""
	explicitInit := false
	for _, a := range kargs {
		if v, found := strings.CutPrefix(a, "init="); found {
			initPath, explicitInit = v, true
		}
	}
	if slices.Contains(kargs, "debug") {
		proc.SetDebug(true)
		klog.Printf("debug: invariant checks after every change (the caller's address space after each system call that can change it; all frames and capabilities every %d checked calls and at each process exit)", proc.DebugGlobalEvery)
	}
	for _, a := range kargs {
		switch {
		case a == "selftest":
			runSelftest()
		case a == "selftest=panic":
			klog.Printf("selftest: dereferencing nil in kernel code")
			selftest.NilDereference()
		case a == "selftest=panic-trap":
			klog.Printf("selftest: dereferencing nil in the trap handler")
			selftest.TrapFault(rt.NrDebugTrapFault)
		case a == "selftest=panic-double":
			klog.Printf("selftest: making a page fault undeliverable, for a double fault")
			selftest.TrapFault(rt.NrDebugDoubleFault)
		}
	}
	root := rootParam(kargs)
	_, haveSupervisor := fs.Lookup(supervisor)
	switch {
	case root != "" && haveSupervisor && initPath != supervisor && (root != "initfs" || !explicitInit):
		// As Linux's initramfs: init, the supervisor, mounts the root
		// disk (none for root=initfs), starts the services of
		// /etc/init.toml and then runs the console program: init= if
		// given, else the manifest's (the shell) (docs/init.md).
		argv := []string{supervisor}
		what := "the manifest's console program"
		if explicitInit {
			argv = append(argv, initArgs(initPath, args)...)
			what = initPath
		}
		klog.Printf("init: root=%s: %s mounts it and starts the services, then runs %s", root, supervisor, what)
		startInit(supervisor, argv, initEnv(args))
		select {}
	case explicitInit:
		if root != "" && root != "initfs" {
			klog.Printf("init: root=%s, but the initfs has no %s: the initfs stays the root", root, supervisor)
		}
		startInit(initPath, initArgs(initPath, args), initEnv(args))
		select {} // the kernel powers off when init ends
	}
	klog.Printf("monitor: no init= and no root=; starting the console monitor (type help)")
	monitor.Run(monitor.Env{In: console.Read, Out: os.Stdout, Commands: commands(fs)})
}

// supervisor is init, the first process when root= names a disk: it
// mounts that disk, starts and supervises the services of
// /etc/init.toml, and runs the console program (init=) as its last.
const supervisor = "/bin/init"

// rootParam is the value of the last root= kernel parameter ("" if
// none): the disk to mount at "/" ("nvme0"), or "initfs".
func rootParam(kargs []string) string {
	root := ""
	for _, a := range kargs {
		if v, found := strings.CutPrefix(a, "root="); found {
			root = v
		}
	}
	return root
}

// initArgs is the first process's argv: its path, then, as Linux does,
// every command-line word after "--" ("init=/bin/sysfuzz -- -time 10m").
func initArgs(path string, args []string) []string {
	argv := []string{path}
	for i, a := range args {
		if a == "--" {
			return append(argv, args[i+1:]...)
		}
	}
	return argv
}

// initEnv is the first process's environment: a few defaults, then, as
// Linux does, every command-line word before "--" of the form NAME=value
// that is not a kernel parameter (so "init=/bin/attacks ATTACKS=kill-rule"
// runs one test).
func initEnv(args []string) []string {
	env := []string{"HOME=/", "PATH=/bin", "TERM=linux"}
	for _, a := range args {
		if a == "--" {
			break
		}
		name, _, found := strings.Cut(a, "=")
		if found && name != "" && name != "init" && name != "selftest" {
			env = append(env, a)
		}
	}
	return env
}

// startInit runs the first user process.
func startInit(path string, argv, env []string) {
	p, err := proc.StartFirst(path, argv, env)
	if err != nil {
		klog.Printf("init: cannot start %s: %v", path, err)
		rt.FailExit(4)
	}
	klog.Printf("init: started %s as pid %d", path, p.PID)
}

func setupACPI() {
	pa, err := acpi.FindRSDP(rt.PhysMemory{})
	if err != nil {
		klog.Printf("acpi: %v; power-off will use QEMU's debug exit", err)
		return
	}
	t, err := acpi.Parse(rt.PhysMemory{}, pa)
	if err != nil {
		klog.Printf("acpi: %v", err)
		return
	}
	klog.Printf("acpi: RSDP at %#x, revision %d, OEM %q, tables %s", pa, t.Revision, t.OEMID, strings.Join(t.Signatures, " "))
	for _, p := range t.Problems {
		klog.Printf("acpi: %v", p)
	}
	if w, err := t.PowerOffWrites(); err != nil {
		klog.Printf("acpi: no S5 power-off: %v", err)
	} else {
		var ports, values []uint16
		for _, x := range w {
			ports = append(ports, x.Port)
			values = append(values, x.Value)
		}
		rt.SetPowerOff(ports, values)
	}
	if t.MCFG != nil {
		for _, w := range t.MCFG.Windows {
			if w.Segment == 0 {
				proc.SetECAM(w.Base, w.StartBus, w.EndBus)
				break
			}
		}
	}
	if err := rt.SetupInterrupts(t.MADT); err != nil {
		klog.Printf("%v; console input will not work", err)
		return
	}
	klog.Printf("interrupts: %d I/O APIC(s); COM1 input on IRQ %d", rt.IOAPICCount(), 4)
	// After the interrupt controllers: the IOMMU reports faults by MSI.
	if err := dma.Init(t.DMAR); err != nil {
		klog.Printf("%v", err)
	}
}

func loadInitfs() *initfs.FS {
	start, end, ok := rt.Module("initfs")
	if !ok {
		klog.Printf("initfs: no initfs module")
		return &initfs.FS{}
	}
	fs, err := initfs.Load(mm.PhysBytes(start, end-start))
	if err != nil {
		klog.Printf("initfs: refused: %v", err)
		return &initfs.FS{}
	}
	klog.Printf("initfs: %d entries, %d KiB, at %#x", fs.Len(), (fs.Bytes()+1023)/1024, start)
	return fs
}

func runSelftest() {
	if selftest.Run(os.Stdout) {
		os.Exit(0) // exit_group(0): the kernel powers off
	}
	rt.FailExit(2)
}

func commands(fs *initfs.FS) map[string]monitor.Command {
	boot := time.Now()
	return map[string]monitor.Command{
		"echo": {Help: "print the arguments", Run: func(out io.Writer, args []string) error {
			fmt.Fprintln(out, strings.Join(args, " "))
			return nil
		}},
		"uptime": {Help: "time since boot", Run: func(out io.Writer, args []string) error {
			up, _ := rt.RuntimeUpNanos()
			fmt.Fprintf(out, "%s, %d timer ticks\n", monitor.Uptime(time.Duration(up)), rt.Ticks())
			_ = boot
			return nil
		}},
		"free": {Help: "physical memory use", Run: func(out io.Writer, args []string) error {
			fl := mm.Lock()
			s := mm.FrameStats()
			heap := mm.HeapCommitted()
			mm.Unlock(fl)
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			fmt.Fprintf(out, "frames: %d KiB total, %d KiB used, %d KiB free\n", s.Managed*4, s.Allocated*4, s.Free*4)
			fmt.Fprintf(out, "kernel heap: %d KiB committed; Go heap %d KiB in use, %d GCs\n", heap/1024, ms.HeapInuse/1024, ms.NumGC)
			return nil
		}},
		"dmesg": {Help: "print the kernel log", Run: func(out io.Writer, args []string) error {
			_, err := out.Write(klog.Dmesg())
			return err
		}},
		"ls": {Help: "list the initfs", Run: func(out io.Writer, args []string) error {
			for _, n := range fs.Names() {
				f, _ := fs.Lookup(n)
				fmt.Fprintf(out, "%v %8d /%s\n", f.Mode, f.Size, n)
			}
			return nil
		}},
		"cat": {Help: "print initfs files", Run: func(out io.Writer, args []string) error {
			for _, a := range args {
				f, ok := fs.Lookup(a)
				if !ok || f.Mode.IsDir() {
					return fmt.Errorf("%s: no such file", a)
				}
				out.Write(f.Data)
			}
			return nil
		}},
		"selftest": {Help: "run the kernel self-test", Run: func(out io.Writer, args []string) error {
			if !selftest.Run(out) {
				return fmt.Errorf("failed")
			}
			return nil
		}},
		"poweroff": {Help: "power the machine off", Run: func(out io.Writer, args []string) error {
			rt.PowerOff()
			return nil
		}},
	}
}
