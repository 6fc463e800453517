package elftest

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
)

// Segment is one PT_LOAD program header and its file contents.
type Segment struct {
	Vaddr uint64
	Paddr uint64 // written as-is; mkimage is supposed to ignore it
	Flags elf.ProgFlag
	Data  []byte // the file bytes; Filesz is len(Data)
	Memsz uint64 // 0 means len(Data)
	Type  elf.ProgType
	// Filesz, if non-zero, overrides len(Data) in the program header
	// without changing what is stored, to fake truncation and lies.
	Filesz uint64
}

// Sym is one symbol-table entry. InText places it in the .text section;
// otherwise it is absolute (SHN_ABS).
type Sym struct {
	Name   string
	Value  uint64
	Size   uint64
	Type   elf.SymType
	InText bool
}

// Spec describes a file to Build. Zero header fields get x86-64 defaults.
type Spec struct {
	Class    elf.Class
	Machine  elf.Machine
	Type     elf.Type
	Segments []Segment
	Syms     []Sym
	NoSymtab bool
}

// Build returns the bytes of the ELF file described by s.
func Build(s Spec) []byte {
	le := binary.LittleEndian
	class := s.Class
	if class == 0 {
		class = elf.ELFCLASS64
	}
	machine := s.Machine
	if machine == 0 {
		machine = elf.EM_X86_64
	}
	typ := s.Type
	if typ == 0 {
		typ = elf.ET_EXEC
	}

	const ehsize, phsize, shsize, symsize = 64, 56, 64, 24
	off := uint64(ehsize + phsize*len(s.Segments))
	align := func() { off = (off + 15) &^ 15 }

	// Place segment data.
	dataOff := make([]uint64, len(s.Segments))
	textIdx := -1
	for i, seg := range s.Segments {
		align()
		dataOff[i] = off
		off += uint64(len(seg.Data))
		if textIdx < 0 && seg.Flags&elf.PF_X != 0 {
			textIdx = i
		}
	}

	// String tables.
	strtab := []byte{0}
	symbols := [][]byte{make([]byte, symsize)} // index 0 is the null symbol
	for _, sym := range s.Syms {
		e := make([]byte, symsize)
		le.PutUint32(e[0:], uint32(len(strtab)))
		strtab = append(append(strtab, sym.Name...), 0)
		e[4] = byte(elf.STB_GLOBAL)<<4 | byte(sym.Type)&0xf
		shndx := uint16(elf.SHN_ABS)
		if sym.InText {
			shndx = 1 // .text is always section 1
		}
		le.PutUint16(e[6:], shndx)
		le.PutUint64(e[8:], sym.Value)
		le.PutUint64(e[16:], sym.Size)
		symbols = append(symbols, e)
	}
	shstr := []byte("\x00.text\x00.symtab\x00.strtab\x00.shstrtab\x00")

	align()
	symOff := off
	off += uint64(symsize * len(symbols))
	strOff := off
	off += uint64(len(strtab))
	shstrOff := off
	off += uint64(len(shstr))
	align()
	shOff := off

	// Sections: null, .text, .symtab, .strtab, .shstrtab.
	secs := []elf.Section64{{}}
	text := elf.Section64{Name: 1, Type: uint32(elf.SHT_PROGBITS),
		Flags: uint64(elf.SHF_ALLOC | elf.SHF_EXECINSTR), Addralign: 16}
	if textIdx >= 0 {
		text.Addr = s.Segments[textIdx].Vaddr
		text.Off = dataOff[textIdx]
		text.Size = uint64(len(s.Segments[textIdx].Data))
	}
	secs = append(secs, text)
	if !s.NoSymtab {
		secs = append(secs,
			elf.Section64{Name: 7, Type: uint32(elf.SHT_SYMTAB), Off: symOff,
				Size: uint64(symsize * len(symbols)), Link: 3, Info: 1, Addralign: 8, Entsize: symsize},
			elf.Section64{Name: 15, Type: uint32(elf.SHT_STRTAB), Off: strOff,
				Size: uint64(len(strtab)), Addralign: 1})
	}
	secs = append(secs, elf.Section64{Name: 23, Type: uint32(elf.SHT_STRTAB), Off: shstrOff,
		Size: uint64(len(shstr)), Addralign: 1})

	var hdr elf.Header64
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS] = byte(class)
	hdr.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	hdr.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	hdr.Type = uint16(typ)
	hdr.Machine = uint16(machine)
	hdr.Version = uint32(elf.EV_CURRENT)
	hdr.Phoff = ehsize
	hdr.Shoff = shOff
	hdr.Ehsize = ehsize
	hdr.Phentsize = phsize
	hdr.Phnum = uint16(len(s.Segments))
	hdr.Shentsize = shsize
	hdr.Shnum = uint16(len(secs))
	hdr.Shstrndx = uint16(len(secs) - 1)

	var out bytes.Buffer
	write := func(v any) {
		// Writing fixed-size values to a bytes.Buffer cannot fail.
		if err := binary.Write(&out, le, v); err != nil {
			panic(err)
		}
	}
	write(hdr)
	for i, seg := range s.Segments {
		typ := seg.Type
		if typ == 0 {
			typ = elf.PT_LOAD
		}
		filesz := uint64(len(seg.Data))
		if seg.Filesz != 0 {
			filesz = seg.Filesz
		}
		memsz := seg.Memsz
		if memsz == 0 {
			memsz = uint64(len(seg.Data))
		}
		write(elf.Prog64{Type: uint32(typ), Flags: uint32(seg.Flags), Off: dataOff[i],
			Vaddr: seg.Vaddr, Paddr: seg.Paddr, Filesz: filesz, Memsz: memsz, Align: 0x1000})
	}
	pad := func(to uint64) {
		for uint64(out.Len()) < to {
			out.WriteByte(0)
		}
	}
	for i, seg := range s.Segments {
		pad(dataOff[i])
		out.Write(seg.Data)
	}
	pad(symOff)
	for _, e := range symbols {
		out.Write(e)
	}
	out.Write(strtab)
	out.Write(shstr)
	pad(shOff)
	for _, sec := range secs {
		write(sec)
	}
	return out.Bytes()
}
