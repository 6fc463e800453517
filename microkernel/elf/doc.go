// Package elf reads the program headers of static x86-64 ELF executables,
// which is all the kernel needs to load one: where each loadable segment
// goes, how much of it comes from the file, and with what permissions
// (System V ABI, "Program Header"; ELF-64 Object File Format 1.5).
//
// Executables are untrusted input: anyone can put a file in the initfs or
// on a disk. Parse checks everything a loader relies on before anything is
// mapped, and refuses the file with a reason otherwise: the class, byte
// order, version, machine and type; that the header table lies inside the
// file and has sane sizes; that each PT_LOAD segment's file range lies
// inside the file, its memory size covers its file size, its address and
// offset agree modulo the page size, it lies entirely in the user half of
// the address space, and no two segments overlap; that the entry point is
// inside an executable segment; and that the whole image stays under
// MaxImage. Dynamically linked executables (PT_INTERP) are refused, since
// there is no dynamic linker.
package elf
