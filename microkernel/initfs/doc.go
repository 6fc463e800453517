// Package initfs reads the initial filesystem: the tar archive that
// tools/mkimage builds from images/<name> and passes to the kernel as a
// Multiboot module. It holds the first programs and configuration files
// until the filesystem servers run.
//
// The archive is untrusted input (a user can build their own image), so
// every entry is checked: names must be relative, clean and free of ".."
// after the leading "./" or "/" is removed; only regular files, directories
// and symlinks are accepted; sizes must fit in the archive; a name may
// appear only once; and the number of entries is bounded. A bad archive is
// refused with an error naming the entry, and nothing from it is used.
//
// File contents are not copied: Data slices point into the module's memory,
// which stays reserved for the life of the kernel.
package initfs
