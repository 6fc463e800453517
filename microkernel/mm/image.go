package mm

import (
	"encoding/binary"

	"valence.dev/microkernel/arch/amd64"
)

// Segment is one loadable segment of the kernel image, with the
// permissions its ELF program header gives it.
type Segment struct {
	Start, End  uint64 // virtual, [Start, End), in the kernel window
	Write, Exec bool
}

// MaxImageSegments bounds the segments ImageSegments accepts. The Go
// linker makes three (text, rodata, data with bss).
const MaxImageSegments = 8

// ELF constants (System V gABI, "ELF Header" and "Program Header").
const (
	elfHeaderSize = 64
	elfPhdrSize   = 56
	elfPTLoad     = 1
	elfPFExec     = 1
	elfPFWrite    = 2
	kernelWindow  = 1 << 30 // entry32 maps the kernel's first GiB at KernelBase
)

// ImageSegments reads the kernel's loadable segments from its own ELF
// header, which the first loadable segment maps into memory (hdr is that
// page). It writes them to out in address order and returns how many.
// Every segment must lie in the kernel window and none may overlap another;
// two may share a page unless that page would then be writable and
// executable. It does not allocate: it runs before the Go
// runtime.
func ImageSegments(hdr []byte, out []Segment) (int, error) {
	if len(hdr) < elfHeaderSize || string(hdr[:4]) != "\x7fELF" || hdr[4] != 2 || hdr[5] != 1 {
		return 0, InitError("mm: the kernel image does not start with a 64-bit little-endian ELF header")
	}
	le := binary.LittleEndian
	phoff, phentsize, phnum := le.Uint64(hdr[32:]), le.Uint16(hdr[54:]), uint64(le.Uint16(hdr[56:]))
	if phentsize != elfPhdrSize {
		return 0, InitError("mm: the kernel's ELF program headers have an unexpected size")
	}
	if phoff > uint64(len(hdr)) || phnum > (uint64(len(hdr))-phoff)/elfPhdrSize {
		return 0, InitError("mm: the kernel's ELF program headers are not in its first page")
	}
	n := 0
	for i := range phnum {
		ph := hdr[phoff+i*elfPhdrSize:]
		if le.Uint32(ph[0:]) != elfPTLoad {
			continue
		}
		flags, vaddr, memsz := le.Uint32(ph[4:]), le.Uint64(ph[16:]), le.Uint64(ph[40:])
		if memsz == 0 {
			continue
		}
		if vaddr < KernelBase || memsz > kernelWindow || vaddr-KernelBase > kernelWindow-memsz {
			return 0, InitError("mm: a kernel segment lies outside the kernel window")
		}
		if n == len(out) {
			return 0, InitError("mm: the kernel image has too many segments")
		}
		s := Segment{Start: vaddr, End: vaddr + memsz, Write: flags&elfPFWrite != 0, Exec: flags&elfPFExec != 0}
		if s.Write && s.Exec {
			return 0, InitError("mm: a kernel segment is both writable and executable")
		}
		// Insert in address order (a handful of segments: insertion sort).
		j := n
		for j > 0 && out[j-1].Start > s.Start {
			out[j] = out[j-1]
			j--
		}
		out[j] = s
		n++
	}
	if n == 0 {
		return 0, InitError("mm: the kernel image has no loadable segments")
	}
	for i := 1; i < n; i++ {
		prev, cur := out[i-1], out[i]
		if cur.Start < prev.End {
			return 0, InitError("mm: the kernel image's segments overlap")
		}
		// Sharing a page merges permissions, which must not make a
		// page both writable and executable.
		if pageDown(cur.Start) < pageUp(prev.End) && (prev.Write || cur.Write) && (prev.Exec || cur.Exec) {
			return 0, InitError("mm: a kernel page would be both writable and executable")
		}
	}
	return n, nil
}

// pageFlags returns the PTE permission bits for the kernel page at va:
// the union of the segments that touch it (two may share a page), and
// present=false when none does.
func pageFlags(segs []Segment, va uint64) (flags uint64, present bool) {
	flags = nxBit
	for _, s := range segs {
		if va+PageSize <= s.Start || va >= s.End {
			continue
		}
		present = true
		if s.Write {
			flags |= amd64.PTEWrite
		}
		if s.Exec {
			flags &^= nxBit
		}
	}
	return flags, present
}
