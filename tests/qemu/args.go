package qemu

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Defaults for the zero values of Options.
const (
	DefaultMemMiB  = 1024
	DefaultTimeout = 5 * time.Minute
)

// Options configures one QEMU run.
type Options struct {
	// Cmdline is the kernel command line, passed with -append.
	Cmdline string
	// MemMiB is the guest's memory size; zero means DefaultMemMiB.
	MemMiB int
	// Timeout is the overall deadline of the run, after which QEMU is
	// killed; zero means DefaultTimeout.
	Timeout time.Duration
	// ExtraArgs are appended to the QEMU command line.
	ExtraArgs []string
	// Paths is the boot image; nil means Image(t).
	Paths *Paths
	// Accel is the accelerator, "tcg" or "kvm"; empty means the ACCEL
	// environment variable, and "tcg" when that is unset. With "kvm" the
	// guest gets the host's CPU model (-cpu host) instead of -cpu max.
	Accel string
}

// AccelEnv names the environment variable that selects the accelerator
// when Options.Accel is empty: ACCEL=kvm runs the guest under KVM.
const AccelEnv = "ACCEL"

// accel returns the accelerator and CPU model that opts asks for.
func (opts Options) accel() (accel, cpu string) {
	a := opts.Accel
	if a == "" {
		a = os.Getenv(AccelEnv)
	}
	if strings.EqualFold(a, "kvm") {
		return "kvm", "host"
	}
	return "tcg", "max"
}

// Args returns QEMU's command line, less the program name, for booting the
// image p with opts. It is the one definition of how Valence is run; the
// Makefile's run target mirrors it:
//
//	-M q35 -cpu max -m <MemMiB> -smp 1 -accel tcg
//	-display none -no-reboot -action reboot=shutdown
//	-chardev stdio,id=con,signal=off -serial chardev:con -monitor none
//	-device isa-debug-exit,iobase=0xf4,iosize=0x04
//	-device intel-iommu,intremap=off
//	-kernel <Kernel> -initrd "<Initfs> initfs,<Syms> ksym"
//	-append "<Cmdline>" <ExtraArgs...>
//
// With the kvm accelerator, "-cpu max" becomes "-cpu host" and
// "-accel tcg" becomes "-accel kvm".
//
// Args panics if p.Check fails, since QEMU would misread such paths; Boot
// checks first and fails the test with the error instead.
func Args(p Paths, opts Options) []string {
	initrd, err := Initrd(p)
	if err == nil && p.Kernel == "" {
		err = errors.New("kernel path is empty")
	}
	if err != nil {
		panic("qemu.Args: " + err.Error())
	}
	mem := opts.MemMiB
	if mem <= 0 {
		mem = DefaultMemMiB
	}
	accel, cpu := opts.accel()
	args := []string{
		"-M", "q35",
		"-cpu", cpu,
		"-m", strconv.Itoa(mem),
		"-smp", "1",
		"-accel", accel,
		"-display", "none",
		"-no-reboot",
		"-action", "reboot=shutdown",
		"-chardev", "stdio,id=con,signal=off",
		"-serial", "chardev:con",
		"-monitor", "none",
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
		// The IOMMU (VT-d) confines each PCI function's DMA
		// (docs/drivers.md); it must come before the PCI devices.
		"-device", "intel-iommu,intremap=off",
		"-kernel", p.Kernel,
		"-initrd", initrd,
		"-append", opts.Cmdline,
	}
	return append(args, opts.ExtraArgs...)
}

// Initrd returns the value of QEMU's -initrd option for p: the multiboot
// modules "<Initfs> initfs,<Syms> ksym", each a path followed by its
// module arguments. A path that is empty or contains a comma or white space
// cannot be written in that syntax and is an error.
func Initrd(p Paths) (string, error) {
	var errs []error
	for _, f := range []namedPath{{"initfs", p.Initfs}, {"symbols", p.Syms}} {
		switch {
		case f.path == "":
			errs = append(errs, fmt.Errorf("%s path is empty", f.name))
		case strings.ContainsAny(f.path, ", \t\r\n"):
			errs = append(errs, fmt.Errorf("%s path %q contains a comma or white space, which QEMU's -initrd module list cannot express", f.name, f.path))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	return p.Initfs + " initfs," + p.Syms + " ksym", nil
}

// Check reports whether Args can express p: every path is set, and the
// module paths contain no comma or white space.
func (p Paths) Check() error {
	_, err := Initrd(p)
	if p.Kernel == "" {
		err = errors.Join(errors.New("kernel path is empty"), err)
	}
	return err
}

// shellQuote renders a command line so that it can be pasted into a shell.
func shellQuote(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, needsQuote) < 0 {
			quoted[i] = a
			continue
		}
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(quoted, " ")
}

func needsQuote(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	}
	return !strings.ContainsRune("-_./=:,+@%", r)
}
