package tests

import (
	"regexp"
	"testing"
)

// devtests are the checks the devtests program reports (userland/devtests):
// the kernel's device capabilities driving QEMU's edu device, and every
// request they must refuse.
var devtests = []string{
	"edu-mmio", "edu-msi", "edu-dma", "no-root", "vectors-freed",
	"refuse-mmio", "refuse-ports", "refuse-dma", "refuse-irq",
}

// eduDevice is QEMU's teaching device with its DMA engine allowed the whole
// address space (its default reaches only the first 256 MiB).
var eduDevice = []string{"-device", "edu,dma_mask=0xffffffffffffffff"}

// devicesConsole are lines the kernel must print: the PCI configuration
// window from ACPI's MCFG at boot, and the reason for each refused window.
var devicesConsole = []string{
	`pci: configuration window \(ECAM\) at 0xb0000000 for buses 0-255`,
	`dma: VT-d 1\.0 IOMMU at 0xfed90000: 39-bit, 3-level tables; DMA is isolated per PCI function`,
	// The faulty driver's DMA into the kernel, blocked and punished.
	`dma: DMA fault: 00:\d\d\.0 write at 0x200000`,
	`dma: killing pid \d+ \(devtests\), the driver of 00:\d\d\.0, for its device's DMA fault`,
	`proc: pid 1 \(devtests\): dev-mmio refused \(EPERM\): mm: device range 0x200000\+0x1000 overlaps RAM at 0x100000-`,
	`proc: pid 1 \(devtests\): dev-mmio refused \(EPERM\): mm: device range 0xfee00000\+0x1000 overlaps the local APIC`,
	// The faulty driver's wild pointer and its port I/O in ring 3.
	`proc: pid \d+ \(devtests\) exited with status 2; last fault: page fault: SIGSEGV at 0xfe[0-9a-f]{6} `,
	`proc: pid \d+ \(devtests\) exited with status 2; last fault: #GP general protection: SIGSEGV`,
}

// TestDevices runs devtests as init in debug mode, with the edu device
// attached: registers through a device window, MSI delivered and masked
// until acknowledged, DMA into DMA memory, and the refusals.
func TestDevices(t *testing.T) {
	out := runVerdictArgs(t, "devtests", "init=/bin/devtests debug", bootTimeout, eduDevice)
	for _, name := range devtests {
		if !regexp.MustCompile(`devtests: ` + regexp.QuoteMeta(name) + `: ok\b`).MatchString(out) {
			t.Errorf("no %q: ok line", name)
		}
	}
	for _, re := range devicesConsole {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("the console lacks %s", re)
		}
	}
	if t.Failed() {
		t.Logf("console:\n%s", out)
	}
}
