package main

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
	"valence.dev/userland/internal/linuxguest"
)

// The Linux side, with filebench as /init of tools/bench's initramfs:
// devtmpfs, sysfs and proc mounted, the modules in /lib/modules/order
// loaded (the NVMe driver's, then ext4's), and /dev/nvme0n1 mounted on
// /mnt as ext4.

const (
	moduleDir = "/lib/modules"
	waitLimit = 120 * time.Second
)

// sysname is "valence" or "linux", from uname(2).
func sysname() string {
	var u unix.Utsname
	if unix.Uname(&u) == nil && unix.ByteSliceToString(u.Sysname[:]) == "Valence" {
		return "valence"
	}
	return "linux"
}

// prepareLinux makes the initramfs usable and mounts the disk.
func prepareLinux() error {
	if err := linuxguest.MountPseudo(); err != nil {
		return err
	}
	// A module that fails is reported and skipped (crc32c_intel needs
	// SSE4.2, which another crc32c stands in for); what is really
	// missing fails the mount.
	err := linuxguest.LoadModules(moduleDir, func(name string, err error) error {
		fmt.Printf("filebench: loading %s: %v (going on without it)\n", name, err)
		return nil
	})
	if err != nil {
		return err
	}
	deadline := time.Now().Add(waitLimit)
	for {
		if _, err := os.Stat(linuxDisk); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no %s within %v", linuxDisk, waitLimit)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := os.MkdirAll(linuxMnt, 0o755); err != nil {
		return err
	}
	if err := unix.Mount(linuxDisk, linuxMnt, "ext4", 0, ""); err != nil {
		return fmt.Errorf("mount %s on %s as ext4: %w", linuxDisk, linuxMnt, err)
	}
	return nil
}

// finish ends the program; as a Linux guest's init it unmounts the disk
// and powers off.
func finish(code int) {
	if os.Getpid() == 1 && sysname() == "linux" {
		unix.Sync()
		unix.Unmount(linuxMnt, 0)
		unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
		time.Sleep(time.Hour)
	}
	os.Exit(code)
}
