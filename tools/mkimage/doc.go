// Command mkimage turns the Valence kernel ELF into the files QEMU boots.
//
// Usage:
//
//	go run ./tools/mkimage -kernel build/kernel.elf -image images/default \
//		[-add host[:/guest/path]]... [-disk-add host[:/guest/path]]... \
//		[-entry symbol] [-disk-size SIZE] -out build/image
//
// It writes four files into the -out directory (creating it):
//
//   - valence.mb, a Multiboot v1 image for `qemu-system-x86_64 -kernel`
//     (package mbimage);
//   - initfs.tar, the initial file system: the -image directory plus the
//     -add files, reproducibly (package initfs);
//   - kernel.sym, the ksym table of the kernel's functions, which the
//     kernel uses to symbolize its own panics (package symtab, format in
//     valence.dev/microkernel/ksym);
//   - root.img, the root disk: a Valence filesystem (docs/fs-format.md)
//     holding the same tree as initfs.tar, -add files included, plus the
//     mount points /boot, /dev and /proc (0755) and /tmp (01777) where the
//     image lacks them, written with the filesystem library of
//     valence.dev/servers/fs (package rootdisk). It is sparse,
//     -disk-size bytes (suffix K, M, G or T; default 256M, or more if the
//     tree needs it), and checked with fsck before it is kept;
//
// and prints a one-line summary. The -add flag may repeat; its guest path
// defaults to /bin/<basename>, and later -add flags override earlier ones
// and image files at the same path. -disk-add is -add for root.img alone
// (an -add to the same path wins):
// the commands a shell uses (u-root's) live on the disk, and the initfs,
// which is loaded into memory at boot, keeps only what runs before the
// disk is mounted and the test programs. SOURCE_DATE_EPOCH, if set, becomes the
// timestamp of every archive entry and disk inode; otherwise the Unix epoch
// is used.
//
// # Design
//
// main is deliberately thin: flag parsing, reading inputs, and writing
// outputs. Everything with rules lives in the packages so it can be tested
// and fuzzed without a file system or a real kernel. All four outputs are
// computed (or, for the archive and the disk, written to temporary files)
// before any is renamed into place, and each rename is atomic, so a failed run never
// leaves a half-written image for the next QEMU run to boot.
package main
