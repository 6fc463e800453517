// Package ksym reads and writes the compact kernel symbol table that the
// Valence kernel uses to symbolize stack traces while it panics.
//
// # Why a custom format
//
// The consumer of this table is the kernel's panic path. By the time it
// runs, the heap may be corrupt, the scheduler may be wedged and the Go
// runtime may not exist at all, so the reader has to work with nothing but
// a byte slice: no allocation, no maps, no fmt, no interfaces, no closures,
// no defer. Go's own pclntab needs the runtime to decode, and ELF symbol
// tables are large and unsorted, so mkimage converts the kernel's ELF
// symbols into this format at build time and the kernel searches it with a
// plain binary search.
//
// # Layout
//
// All integers are little endian. Offsets are from the start of the table.
//
//	offset  size  field
//	0       8     magic "VKSYM\x00\x01\x00" (the last two bytes are the version)
//	8       4     count: number of entries
//	12      4     strtab offset
//	16      4     strtab size
//	20      4     reserved, must be 0
//	24      16*n  entries
//
// Each 16-byte entry is
//
//	0   8  addr     first address covered by the symbol
//	8   4  size     number of bytes covered; never 0
//	12  4  nameOff  offset of the symbol's name within the strtab
//
// Entries are sorted by addr and do not overlap: for consecutive entries a
// and b, a.addr+a.size <= b.addr. A name is stored in the strtab as a
// uint16 length followed by that many bytes, with no NUL terminator, so a
// name is at most 65535 bytes and never empty. Several entries may share a
// name. addr+size must not overflow uint64, so no symbol may end exactly
// at 2^64. The strtab must lie entirely after the entries; bytes after the
// strtab are ignored, which lets the table be padded to a page boundary.
//
// # Invariants and trust
//
// Open validates everything up front (header, bounds, sortedness, every
// name) so that a Table obtained from Open is well formed. Open reports
// problems only through package-level sentinel errors, so even the failure
// path does not allocate.
//
// Lookup nevertheless re-checks every offset it follows. The table is read
// in a panic, which is exactly when memory corruption is most likely; a
// table that was valid at boot may have been scribbled on since. Lookup
// therefore never trusts the bytes: corruption can make it return a wrong
// or missing answer, but it cannot make it index out of bounds or loop
// forever. The slice lengths themselves are fixed by Open and cannot be
// changed by writes to the underlying bytes.
//
// Encode is the host-side writer used by mkimage. It may allocate, but it
// lives in this package so the writer and reader share one definition of
// the format. Because the kernel imports this package, ksym deliberately
// avoids fmt (and with it os and syscall); Encode builds its error
// messages with strconv instead.
package ksym
