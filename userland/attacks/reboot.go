package main

import (
	"errors"
	"fmt"
	"os/exec"

	"golang.org/x/sys/unix"
)

// reboot-refused: reboot(2) is the one call that ends the machine, so
// every way of calling it wrongly must fail and leave it running: a
// process without CAP_SYS_BOOT gets EPERM before its arguments are even
// looked at (Linux's order), wrong magic numbers and unknown commands
// EINVAL, hibernation ENOSYS, KEXEC with nothing loaded EINVAL. If any
// of these powered off, the test run would end without "attacks: PASS".
func init() {
	addTest("reboot-refused", rebootRefused)
	addRole("reboot-nocap", rebootNoCap)
}

const capSysBoot = 22 // CAP_SYS_BOOT, capability(7)

func rebootCall(magic1, magic2, cmd uint32) error {
	_, _, e := unix.Syscall6(unix.SYS_REBOOT, uintptr(magic1), uintptr(magic2), uintptr(cmd), 0, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

func rebootRefused() error {
	const m1, m2 = unix.LINUX_REBOOT_MAGIC1, unix.LINUX_REBOOT_MAGIC2
	cases := []struct {
		what           string
		magic1, magic2 uint32
		cmd            uint32
		want           error
	}{
		{"bad magic1", 0xdeadbeef, m2, unix.LINUX_REBOOT_CMD_POWER_OFF, unix.EINVAL},
		{"bad magic2", m1, 0x12345678, unix.LINUX_REBOOT_CMD_POWER_OFF, unix.EINVAL},
		{"magic swapped", m2, m1, unix.LINUX_REBOOT_CMD_RESTART, unix.EINVAL},
		{"unknown command", m1, m2, 0x11111111, unix.EINVAL},
		{"kexec with nothing loaded", m1, m2, unix.LINUX_REBOOT_CMD_KEXEC, unix.EINVAL},
		{"hibernation", m1, m2, unix.LINUX_REBOOT_CMD_SW_SUSPEND, unix.ENOSYS},
		{"ctrl-alt-del on", m1, 0x05121996, unix.LINUX_REBOOT_CMD_CAD_ON, nil},
		{"ctrl-alt-del off", m1, m2, unix.LINUX_REBOOT_CMD_CAD_OFF, nil},
	}
	for _, c := range cases {
		if err := rebootCall(c.magic1, c.magic2, c.cmd); !errors.Is(err, c.want) && err != c.want {
			return fmt.Errorf("reboot %s: %v, want %v", c.what, err, c.want)
		}
	}
	out, err := exec.Command(self(), "role", "reboot-nocap").CombinedOutput()
	if err != nil {
		return fmt.Errorf("reboot without CAP_SYS_BOOT: %v: %s", err, out)
	}
	return nil
}

// rebootNoCap drops CAP_SYS_BOOT from its effective set and asks for a
// power-off and a restart with valid magic: both must be EPERM.
func rebootNoCap([]string) int {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var d [2]unix.CapUserData
	if err := unix.Capget(&hdr, &d[0]); err != nil {
		fmt.Printf("capget: %v\n", err)
		return 1
	}
	d[0].Effective &^= 1 << capSysBoot
	if err := unix.Capset(&hdr, &d[0]); err != nil {
		fmt.Printf("capset: %v\n", err)
		return 1
	}
	for _, cmd := range []uint32{unix.LINUX_REBOOT_CMD_POWER_OFF, unix.LINUX_REBOOT_CMD_RESTART, 0x11111111} {
		if err := rebootCall(unix.LINUX_REBOOT_MAGIC1, unix.LINUX_REBOOT_MAGIC2, cmd); !errors.Is(err, unix.EPERM) {
			fmt.Printf("reboot %#x without CAP_SYS_BOOT: %v, want EPERM\n", cmd, err)
			return 1
		}
	}
	return 0
}
