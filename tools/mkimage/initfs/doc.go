// Package initfs builds the initial file system archive (initfs.tar) that
// the kernel unpacks at boot: the contents of an image directory plus
// individual host files added on the command line.
//
// # Reproducibility
//
// The archive is a pure function of its inputs' names, contents, modes and
// symlink targets: entries are sorted, owners are 0/0 with no user or group
// names, and every timestamp is the single ModTime the caller passes
// (mkimage uses the Unix epoch, or SOURCE_DATE_EPOCH when set). Host
// timestamps, owners and directory-read order never leak in, so two builds
// of the same tree produce identical bytes and the image can be cached and
// compared.
//
// # Tree invariants
//
// The archive always describes a well-formed tree:
//
//   - names are relative, slash-separated and clean ("bin/hello"), with a
//     trailing slash on directories ("bin/") as tar convention has it;
//   - every ancestor of an entry is a directory entry that appears before
//     it; missing ancestors are synthesized with mode 0755;
//   - entries are ordered by path component, depth first, so a directory's
//     subtree is contiguous and follows it;
//   - only directories, regular files and symlinks occur. Devices, FIFOs
//     and sockets have no meaning in the initfs and are refused rather
//     than silently dropped.
//
// Later additions override earlier ones of the same path, and added files
// override image files, but nothing may replace a directory or hang below
// a non-directory: those would silently lose files, so they are errors.
// Files named .keep (which only exist to keep empty directories in git)
// are skipped. Symlinks in the image directory are archived as links, not
// followed; a host file passed with -add is followed, since naming a
// symlink on the command line means its target.
//
// # Format
//
// archive/tar chooses USTAR whenever the entry fits and PAX otherwise (for
// example for names longer than USTAR allows), so simple readers work for
// ordinary trees. Files over MaxFileSize are refused: the initfs is held
// in memory at boot and such a file is almost certainly a mistake.
package initfs
