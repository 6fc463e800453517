// Package hostcopy copies files and trees from the host into a Valence
// filesystem image: the one implementation behind `valfs mkfs -from` and
// `valfs put`, and behind tools/mkimage building the root disk image from
// images/<name>. Modes (with setuid, setgid and sticky), owners,
// modification times, symlinks and hard links are kept; other file types
// are skipped with a warning.
package hostcopy
