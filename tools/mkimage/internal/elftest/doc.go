// Package elftest writes small, synthetic ELF64 executables for mkimage's
// tests and fuzz seeds.
//
// Testing an image builder against a real Go kernel is slow and hides the
// interesting cases: real linkers never emit overlapping segments, missing
// symbol tables or segments outside the higher-half window, yet mkimage
// must reject all of those cleanly. Spec describes exactly the parts mkimage
// reads (the ELF header, PT_LOAD program headers, a .text section and a
// symbol table) and Build lays them out in the simplest valid way:
//
//	ELF header | program headers | segment data... | .symtab | .strtab |
//	.shstrtab | section headers
//
// Segment data is stored in order, 16-byte aligned, with no attempt to keep
// file offsets congruent to addresses modulo the page size; mkimage never
// maps the file, so it does not care. The .text section covers the first
// executable segment's file bytes. Spec's header fields default to a valid
// x86-64 ET_EXEC so a test changes only what it is about.
//
// The package lives under internal/ because its output is only as correct
// as a test needs: it is a fixture generator, not an ELF writer.
package elftest
