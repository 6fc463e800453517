package proc

import (
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/klog"
	"valence.dev/microkernel/rt"
)

// rebootMagic2 are the second magic numbers reboot(2) accepts
// (LINUX_REBOOT_MAGIC2, 2A, 2B and 2C of Linux's uapi linux/reboot.h;
// x/sys names only the first, gvisor's ABI package none).
var rebootMagic2 = []uint32{unix.LINUX_REBOOT_MAGIC2, 0x05121996, 0x16041998, 0x20112000}

// sysReboot implements reboot(2) for the caller with CAP_SYS_BOOT:
// POWER_OFF and HALT power the machine off (QEMU exits 0), RESTART and
// RESTART2 reset it, CAD_ON and CAD_OFF are accepted (there is no
// Ctrl-Alt-Del on a serial console). Unlike Linux, every filesystem of
// the caller's namespace is synced first: the file servers keep written
// data in their caches (docs/filesystems.md), and a poweroff that lost
// it would be a surprise to whoever typed it. Stopping the servers is
// init's business, before it calls reboot (docs/init.md).
func sysReboot(c *call) result {
	magic1, magic2, cmd := uint32(c.arg(0)), uint32(c.arg(1)), uint32(c.arg(2))
	if !c.p.hasCap(linux.CAP_SYS_BOOT) {
		return fail(errno.EPERM)
	}
	validMagic := false
	for _, m := range rebootMagic2 {
		validMagic = validMagic || magic2 == m
	}
	if magic1 != unix.LINUX_REBOOT_MAGIC1 || !validMagic {
		return fail(errno.EINVAL)
	}
	switch cmd {
	case unix.LINUX_REBOOT_CMD_CAD_ON, unix.LINUX_REBOOT_CMD_CAD_OFF:
		return ok0()
	case unix.LINUX_REBOOT_CMD_POWER_OFF, unix.LINUX_REBOOT_CMD_HALT:
		klog.Printf("reboot: power off asked by pid %d (%s); syncing filesystems", c.p.PID, c.p.Name)
		syncAll(c, c.p.mounts())
		rt.PowerOff()
	case unix.LINUX_REBOOT_CMD_RESTART, unix.LINUX_REBOOT_CMD_RESTART2:
		klog.Printf("reboot: restart asked by pid %d (%s); syncing filesystems", c.p.PID, c.p.Name)
		syncAll(c, c.p.mounts())
		rt.Reset()
	case unix.LINUX_REBOOT_CMD_SW_SUSPEND:
		return fail(errno.ENOSYS) // no hibernation, as Linux without CONFIG_HIBERNATION
	}
	return fail(errno.EINVAL) // KEXEC (nothing loaded) and unknown commands
}
