package main

import (
	"strconv"
	"strings"
)

// Block devices are known to pcid by the names their drivers register
// ("nvme0", "vda") and to users by Linux's device file names: NVMe
// controller N's first namespace is /dev/nvmeNn1 (nvmed serves namespace
// 1 only), a virtio disk keeps its name (/dev/vda).

// devFileName is the /dev name of the block device pcid knows as name,
// and ok false for a name that is not a disk's.
func devFileName(name string) (string, bool) {
	if n, isNVMe := strings.CutPrefix(name, "nvme"); isNVMe && isDigits(n) {
		return "nvme" + n + "n1", true
	}
	if isVirtioDisk(name) {
		return name, true
	}
	return "", false
}

// pcidName is the pcid name of the device file path (/dev/nvme1n1,
// /dev/vdb; the bare names too), and ok false for anything else.
func pcidName(path string) (string, bool) {
	name := strings.TrimPrefix(path, "/dev/")
	if n, isNVMe := strings.CutPrefix(name, "nvme"); isNVMe {
		ctrl, ns, found := strings.Cut(n, "n")
		switch {
		case found && isDigits(ctrl) && ns == "1":
			return "nvme" + ctrl, true
		case !found && isDigits(ctrl):
			return name, true
		}
		return "", false
	}
	if isVirtioDisk(name) {
		return name, true
	}
	return "", false
}

// devRdev is the device number stat reports for the device file, as
// Linux numbers them: NVMe namespaces are block major 259 (blkext),
// virtio disks major 254 with 16 minors each (partitions).
func devRdev(name string) uint64 {
	if n, isNVMe := strings.CutPrefix(name, "nvme"); isNVMe {
		i, _ := strconv.Atoi(n)
		return mkdev(259, uint64(i))
	}
	if isVirtioDisk(name) {
		return mkdev(254, uint64(name[2]-'a')*16)
	}
	return 0
}

// mkdev is Linux's device number encoding (new_encode_dev).
func mkdev(major, minor uint64) uint64 {
	return minor&0xff | major<<8 | (minor&^0xff)<<12
}

func isVirtioDisk(name string) bool {
	return len(name) == 3 && strings.HasPrefix(name, "vd") && name[2] >= 'a' && name[2] <= 'z'
}

func isDigits(s string) bool {
	if s == "" || len(s) > 3 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
