package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	"valence.dev/userland/internal/linuxguest"
)

// The Linux side, with diskbench as /init of tools/bench's initramfs:
// the modules listed in /lib/modules/order (dependencies first) loaded,
// devtmpfs on /dev, and /dev/nvme0n1 read with O_DIRECT into
// page-aligned buffers, one per slot.

const (
	linuxDevice = "/dev/nvme0n1"
	moduleDir   = "/lib/modules"
)

type linuxDisk struct {
	fd    int
	bytes int64
	bufs  []byte // maxQD slots of seqSize
	maxKB string
}

func openLinuxDisk() (disk, error) {
	if os.Getpid() == 1 {
		if err := prepareLinux(); err != nil {
			return nil, err
		}
	}
	deadline := time.Now().Add(waitLimit)
	for {
		if _, err := os.Stat(linuxDevice); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no %s within %v", linuxDevice, waitLimit)
		}
		time.Sleep(20 * time.Millisecond)
	}
	fd, err := unix.Open(linuxDevice, unix.O_RDONLY|unix.O_DIRECT|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", linuxDevice, err)
	}
	n, err := unix.Seek(fd, 0, 2)
	if err != nil {
		return nil, fmt.Errorf("size of %s: %w", linuxDevice, err)
	}
	bufs, err := unix.Mmap(-1, 0, maxQD*seqSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("buffers: %w", err)
	}
	kb, _ := os.ReadFile("/sys/block/nvme0n1/queue/max_hw_sectors_kb")
	return &linuxDisk{fd: fd, bytes: n, bufs: bufs, maxKB: strings.TrimSpace(string(kb))}, nil
}

func (d *linuxDisk) size() int64 { return d.bytes }

func (d *linuxDisk) describe() string {
	var u unix.Utsname
	unix.Uname(&u)
	iommu := "no IOMMU in use"
	if groups, _ := os.ReadDir("/sys/kernel/iommu_groups"); len(groups) > 0 {
		iommu = fmt.Sprintf("IOMMU in use (%d groups)", len(groups))
	}
	return fmt.Sprintf("linux %s %s: %d MiB, at most %s KiB per request, O_DIRECT, %s",
		unix.ByteSliceToString(u.Release[:]), linuxDevice, d.bytes>>20, d.maxKB, iommu)
}

func (d *linuxDisk) read(slot int, off int64, n int) ([]byte, error) {
	b := d.bufs[slot*seqSize : slot*seqSize+n]
	got, err := unix.Pread(d.fd, b, off)
	if err != nil {
		return nil, fmt.Errorf("pread of %d bytes at %d: %w", n, off, err)
	}
	if got != n {
		return nil, fmt.Errorf("pread of %d bytes at %d returned %d", n, off, got)
	}
	return b, nil
}

// prepareLinux makes the initramfs usable: devtmpfs, sysfs and proc
// mounted, and the modules loaded.
func prepareLinux() error {
	if err := linuxguest.MountPseudo(); err != nil {
		return err
	}
	return linuxguest.LoadModules(moduleDir, func(name string, err error) error {
		return fmt.Errorf("loading %s: %w", name, err)
	})
}

// finish ends the program; as a Linux guest's init it powers off.
func finish(code int) {
	if os.Getpid() == 1 {
		if _, isValence := os.LookupEnv("VALENCE_DEVICE_ROOT"); !isValence {
			unix.Sync()
			unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
			time.Sleep(time.Hour)
		}
	}
	os.Exit(code)
}
