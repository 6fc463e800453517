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
//
// Last, each kernel boots once with a filesystem on the NVMe disk and
// runs userland/filebench (file.go; -file=false skips it): Valence with
// root=nvme0 on a fresh Valence filesystem (build/bench-valfs.img, made
// with servers/fs/hostcopy), which /bin/init mounts at "/" before it
// runs filebench as init; Linux on a fresh ext4 (build/bench-ext4.img,
// made with the host's mkfs.ext4, inode tables and journal initialised
// up front) that filebench mounts on /mnt after loading the NVMe modules
// and the ext4 ones (modules/ext4.order). Both disks are the same size
// and both boots get the same filebench arguments (after "--" on the
// kernel command line), so the fs-* rows, whose names carry the sizes,
// pair up. The sizes are the defaults (-file-count 1000,
// -file-stat 10000, -file-mib 256, -file-rand-mib 64), with 3
// repetitions (-file-reps) and one of the 256 MiB write and read
// (-file-seq-reps); -file-quick makes the two big files 32 and 16 MiB,
// because Valence writes files at well under 1 MiB/s under TCG. A file
// boot may take hours (-file-timeout, 3 h).
//
// Before the file boots, each kernel boots with a virtio-net NIC and runs
// userland/netbench as its first process (net.go; -net=false skips it):
// Valence with root=nvme0 and no disk, because /bin/init, which
// starts netd (and netd's DHCP), runs only when root= names a disk; it
// finds none and keeps the initfs. Linux with the virtio-net modules
// (modules/net.order) in its initramfs, netbench setting 10.0.2.15/24
// itself. The bench drives netbench from the host (netdrive.go): TCP
// MiB/s each way as the receiver counts it, keep-alive HTTP requests and
// connections per second with -net-clients at once, each -net-reps times
// for -net-seconds, every wait bounded so a slow or stuck guest fails its
// rows instead of hanging the bench. Both kernels do this on QEMU's user
// network (rows net-user-*, through hostfwd ports on 127.0.0.1) and, when
// the host allows (root, /dev/net/tun, ip; -net-tap), on a TAP device in
// a private network namespace (rows net-tap-*, nettap.go), which takes
// QEMU's slirp out of the figures. Rows only Linux has (Valence's
// workload failed) are shown with "-" for Valence.
package main
