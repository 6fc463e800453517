// Command bench runs the same static benchmark program (userland/ubench)
// inside Valence and inside a Linux guest booted with the same QEMU
// options, and reports each figure side by side with the ratio
// Valence/Linux: a table on stdout and JSON in build/bench.json.
//
// The Linux guest is Debian's packaged kernel (fetched by
// scripts/fetch-linux.sh, never installed on the host) with an initramfs
// made here: /init is ubench itself, /dev/console and /proc exist, and
// ubench powers the guest off when it is done. Both guests get the same
// machine: q35, TCG (or KVM with ACCEL=kvm), the same CPU model, memory,
// CPU count and devices.
//
// Figures: the time from launching QEMU to the first line the first user
// program prints (measured here, over several boots), and every "bench:"
// line ubench prints (each already the min and median of five
// repetitions inside the guest). For IPC, Linux's figure is the fastest
// of a pipe and a Unix socket between two processes, as Valence's
// endpoints carry payloads that a futex cannot.
//
// Then each kernel boots once more with the IOMMU and an NVMe disk
// (build/bench-nvme.img, written here with a checkable pattern) and runs
// userland/diskbench as its first process: Valence through pcid, nvmed
// and the block protocol; Linux through /dev/nvme0n1 with O_DIRECT, after
// loading the nvme modules that scripts/fetch-linux.sh took from the same
// .deb (they go into that boot's initramfs under /lib/modules). The
// nvme-* rows are rates, so their ratio is higher-better.
package main
