// Package symtab extracts the kernel's function symbols from its ELF file
// in the form package ksym encodes, for symbolizing panics in the kernel.
//
// # What counts as a function
//
// A symbol is kept if it is defined in the .text section, has a name and
// is not a section, file or TLS symbol. Go's linker marks its text symbols
// STT_FUNC, but hand-written assembly from other toolchains often leaves
// labels STT_NOTYPE, and `go tool nm` reports both as text ('T'/'t'), so
// the section, not the type, decides. Symbols outside .text (data, the
// multiboot header, absolute symbols) would only make a PC in them look
// like code.
//
// # Sizes and overlaps
//
// ksym requires non-empty, non-overlapping ranges, while ELF allows both
// zero sizes (labels such as runtime.text) and aliases. Symbols refers to
// the convention every symbolizer uses: a PC belongs to the nearest symbol
// at or below it. Concretely, after sorting by address:
//
//   - of several symbols at one address, the one with a non-zero size wins,
//     then STT_FUNC over other types, then the smallest name, so the
//     output does not depend on symbol-table order;
//   - a zero size becomes the distance to the next symbol (or to the end
//     of .text for the last one);
//   - a size that runs into the next symbol or past .text is clipped;
//   - a symbol left with size zero (a label at the very end of .text, such
//     as runtime.etext) is dropped.
//
// The result always satisfies ksym.Encode. A name too long for ksym's
// 16-bit length is an error rather than silently truncated, since a
// mangled name in a panic would send someone looking for the wrong code.
package symtab
