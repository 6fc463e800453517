// Package rootdisk writes the root disk image: a Valence filesystem (the
// format in docs/fs-format.md, written by valence.dev/servers/fs) holding
// the same tree as initfs.tar, for the filesystem server to mount as /.
//
// The tree comes from initfs.Entries, so the disk and the archive cannot
// disagree about what the image contains: the same files, directories and
// symlinks, the same modes, owner 0:0, and every timestamp the one
// modification time mkimage uses for the archive (the Unix epoch, or
// SOURCE_DATE_EPOCH). Only the volume id, which must differ between
// filesystems, is random.
//
// The disk also has the MountPoints, which the initfs need not have:
// init (userland/init), the first process, binds the initfs at
// /boot and mounts this disk at /, the kernel's /dev and /proc are
// mounted over the disk's, and /tmp is sticky and world-writable (01777).
// Those the tree lacks are added as empty directories; one the tree has
// keeps the tree's mode and contents, and must be a directory.
//
// The image file is sparse: its size is the filesystem's size, but the
// host stores only the blocks written. Write refuses a size too small for
// the tree before writing anything, and checks the finished image with
// fsck before reporting success, so mkimage never leaves an image the
// server would refuse.
package rootdisk
