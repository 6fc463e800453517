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
package main
