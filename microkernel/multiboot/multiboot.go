package multiboot

// BootloaderMagic is the value a Multiboot loader leaves in EAX (spec
// section 3.2). Any other value means EBX cannot be trusted.
const BootloaderMagic = 0x2BADB002

// Capacity limits. They bound both the size of Info and the work Parse
// does on hostile input.
const (
	// MaxRegions is the number of memory map entries Info can hold.
	// Firmware maps on real machines have a few dozen.
	MaxRegions = 128
	// MaxModules is the number of boot modules Info can hold.
	MaxModules = 16
	// MaxCmdline is the longest string, NUL excluded, that Parse accepts
	// for the kernel or a module command line.
	MaxCmdline = 4096
	// MaxMmapLength is the largest mmap_length Parse accepts. At the
	// minimal entry size of 24 bytes this is over 2700 entries, far more
	// than any firmware produces, so a larger value means corruption.
	MaxMmapLength = 64 << 10
	// InfoSize is the size of the information structure as the 0.6.96
	// specification defines it (through the framebuffer colour info).
	InfoSize = 116
	// PageSize is the granularity Available rounds to.
	PageSize = 4096
)

// Bits of Info.Flags that this package interprets (spec section 3.3).
const (
	FlagMem     = 1 << 0 // mem_lower and mem_upper are valid
	FlagCmdline = 1 << 2 // cmdline is valid
	FlagMods    = 1 << 3 // mods_count and mods_addr are valid
	FlagMmap    = 1 << 6 // mmap_length and mmap_addr are valid
)

// Memory map entry types. The specification names only 1 (available);
// the others are the BIOS INT 15h E820 types that loaders pass through.
const (
	TypeAvailable       = 1
	TypeReserved        = 2
	TypeACPIReclaimable = 3
	TypeNVS             = 4
	TypeBad             = 5
)

// Byte offsets of the fields Parse reads, from the start of the
// information structure.
const (
	offFlags      = 0
	offMemLower   = 4
	offMemUpper   = 8
	offCmdline    = 16
	offModsCount  = 20
	offModsAddr   = 24
	offMmapLength = 44
	offMmapAddr   = 48

	moduleEntrySize = 16 // mod_start, mod_end, string, reserved
	mmapMinSize     = 20 // base_addr, length, type: what size must cover
)

// Memory gives read access to physical memory. Slice returns the n bytes
// at physical address pa, or ok=false if that range is not readable. The
// kernel implements it over its identity map; tests use a fake.
type Memory interface {
	Slice(pa, n uint64) (b []byte, ok bool)
}

// Region is a physical address range [Base, Base+Len) with a memory map
// type (TypeAvailable, TypeReserved, ...).
type Region struct {
	Base, Len uint64
	Type      uint32
}

// Module is a boot module the loader placed at [Start, End).
type Module struct {
	Start, End uint64
	// Cmdline is the module's string without its NUL, aliasing the
	// loader's memory; nil if the loader gave none.
	Cmdline []byte
}

// Info is the parsed information structure. It is made of fixed-size
// arrays so that it can live in the kernel's data segment before there
// is a heap; the N fields say how many array entries are valid.
type Info struct {
	Flags                    uint32
	MemLowerKiB, MemUpperKiB uint32 // valid when Flags&FlagMem != 0

	// Cmdline is the kernel command line without its NUL, aliasing the
	// loader's memory; nil if Flags&FlagCmdline == 0.
	Cmdline []byte

	// Regions is the firmware memory map in the loader's order, entries
	// copied verbatim (synthesised from MemLowerKiB/MemUpperKiB when the
	// loader gave no map).
	Regions  [MaxRegions]Region
	NRegions int

	Modules  [MaxModules]Module
	NModules int

	// InfoStart and InfoEnd bound the information structure itself:
	// InfoEnd = InfoStart + InfoSize.
	InfoStart, InfoEnd uint64

	// Reserved lists the memory the loader's data occupies (the
	// structure, the command line and its NUL, the memory map buffer,
	// the module list, each module's string), one entry each, Type
	// TypeReserved. The kernel must not reuse it before it has copied
	// what it needs out of Info. Empty ranges are omitted.
	Reserved  [MaxRegions]Region
	NReserved int
}

// Parse reads the information structure at physical address infoPA,
// which the loader passed in EBX, together with the magic it passed in
// EAX, into *out. It allocates nothing and does not retain mem. See the
// package documentation for what is validated and how errors leave out.
func Parse(mem Memory, magic uint32, infoPA uint64, out *Info) error {
	if out == nil {
		return ErrNilArgument
	}
	*out = Info{}
	if mem == nil {
		return ErrNilArgument
	}
	if magic != BootloaderMagic {
		return ErrBadMagic
	}
	switch err := parse(mem, infoPA, out); err {
	case 0:
		return nil
	case ErrTooManyRegions:
		return err
	default:
		*out = Info{}
		return err
	}
}

// parse does the work of Parse. It returns Error rather than error so
// that "no error" is the integer 0 and the caller's checks are integer
// compares; Parse converts to error only at the boundary.
func parse(mem Memory, infoPA uint64, out *Info) Error {
	hdr, ok := read(mem, infoPA, 4)
	if !ok {
		return ErrTruncated
	}
	flags := le32(hdr, offFlags)

	// Read only as much of the structure as the flags make meaningful:
	// a loader that sets few flags may not have written the rest.
	need := uint64(4)
	if flags&FlagMem != 0 {
		need = max(need, offMemUpper+4)
	}
	if flags&FlagCmdline != 0 {
		need = max(need, offCmdline+4)
	}
	if flags&FlagMods != 0 {
		need = max(need, offModsAddr+4)
	}
	if flags&FlagMmap != 0 {
		need = max(need, offMmapAddr+4)
	}
	raw, ok := read(mem, infoPA, need)
	if !ok {
		return ErrTruncated
	}

	out.Flags = flags
	out.InfoStart = infoPA
	out.InfoEnd = satAdd(infoPA, InfoSize)
	reserve(out, infoPA, InfoSize)

	if flags&FlagMem != 0 {
		out.MemLowerKiB = le32(raw, offMemLower)
		out.MemUpperKiB = le32(raw, offMemUpper)
	}
	if flags&FlagCmdline != 0 {
		pa := uint64(le32(raw, offCmdline))
		s, err := readString(mem, pa)
		if err != 0 {
			return err
		}
		out.Cmdline = s
		reserve(out, pa, uint64(len(s))+1)
	}
	if flags&FlagMods != 0 {
		if err := parseModules(mem, le32(raw, offModsCount), le32(raw, offModsAddr), out); err != 0 {
			return err
		}
	}
	var soft Error
	if flags&FlagMmap != 0 {
		err := parseMmap(mem, le32(raw, offMmapLength), le32(raw, offMmapAddr), out)
		switch err {
		case 0:
		case ErrTooManyRegions:
			soft = err
		default:
			return err
		}
	} else if flags&FlagMem != 0 {
		// The lower region starts at 0 and the upper at 1 MiB (spec
		// 3.3); both sizes are in KiB, so neither can overflow.
		out.Regions[0] = Region{Base: 0, Len: uint64(out.MemLowerKiB) << 10, Type: TypeAvailable}
		out.Regions[1] = Region{Base: 1 << 20, Len: uint64(out.MemUpperKiB) << 10, Type: TypeAvailable}
		out.NRegions = 2
	}
	return soft
}

// parseModules reads the module list: count 16-byte entries at addr.
func parseModules(mem Memory, count, addr uint32, out *Info) Error {
	if count > MaxModules {
		return ErrTooManyModules
	}
	if count == 0 {
		return 0
	}
	size := uint64(count) * moduleEntrySize
	list, ok := read(mem, uint64(addr), size)
	if !ok {
		return ErrTruncated
	}
	reserve(out, uint64(addr), size)
	for i := 0; i < int(count); i++ {
		off := i * moduleEntrySize
		if off+moduleEntrySize > len(list) {
			return ErrTruncated // unreachable: read returned size bytes
		}
		start := uint64(le32(list, off))
		end := uint64(le32(list, off+4))
		str := uint64(le32(list, off+8))
		if end < start {
			return ErrBadModule
		}
		var s []byte
		if str != 0 {
			var err Error
			s, err = readString(mem, str)
			if err != 0 {
				return err
			}
			reserve(out, str, uint64(len(s))+1)
		}
		out.Modules[i] = Module{Start: start, End: end, Cmdline: s}
		out.NModules = i + 1
	}
	return 0
}

// parseMmap reads the memory map: length bytes at addr holding entries
// of the form (size uint32, base uint64, len uint64, type uint32, ...),
// where size counts the bytes after itself and so may exceed 20 for
// loaders that append fields.
func parseMmap(mem Memory, length, addr uint32, out *Info) Error {
	if length > MaxMmapLength {
		return ErrBadMmap
	}
	if length == 0 {
		return 0
	}
	buf, ok := read(mem, uint64(addr), uint64(length))
	if !ok {
		return ErrTruncated
	}
	reserve(out, uint64(addr), uint64(length))
	var result Error
	off := 0
	// Each iteration advances off by at least 4+mmapMinSize, and off
	// never exceeds len(buf) <= MaxMmapLength, so this terminates.
	for off < len(buf) {
		if len(buf)-off < 4 {
			return ErrBadMmap
		}
		size := int(le32(buf, off))
		body := off + 4
		if size < mmapMinSize || size > len(buf)-body {
			return ErrBadMmap
		}
		if out.NRegions < MaxRegions {
			out.Regions[out.NRegions] = Region{
				Base: le64(buf, body),
				Len:  le64(buf, body+8),
				Type: le32(buf, body+16),
			}
			out.NRegions++
		} else {
			// Keep walking: the rest of the map must still be well
			// formed for the result to be trusted.
			result = ErrTooManyRegions
		}
		off = body + size
	}
	return result
}

// reserve appends [base, base+n) to out.Reserved, clamping at the top of
// the address space. Parse adds at most 4+MaxModules entries, so the
// capacity check never drops one; it is there so no index can go out of
// range whatever the caller did to out.
func reserve(out *Info, base, n uint64) {
	if n == 0 || out.NReserved < 0 || out.NReserved >= MaxRegions {
		return
	}
	out.Reserved[out.NReserved] = Region{Base: base, Len: satAdd(base, n) - base, Type: TypeReserved}
	out.NReserved++
}

// readString returns the NUL-terminated string at pa, NUL excluded. It
// probes one byte at a time because the string's extent is unknown and
// a larger read could fail on an unreadable page beyond its end. An empty
// string yields a non-nil, zero-length slice so that "present but empty"
// differs from "absent".
func readString(mem Memory, pa uint64) ([]byte, Error) {
	for i := uint64(0); i <= MaxCmdline; i++ {
		if pa+i < pa {
			return nil, ErrTruncated
		}
		b, ok := read(mem, pa+i, 1)
		if !ok {
			return nil, ErrTruncated
		}
		if b[0] != 0 {
			continue
		}
		if i == 0 {
			return b[:0:0], 0
		}
		s, ok := read(mem, pa, i)
		if !ok {
			return nil, ErrTruncated
		}
		return s, 0
	}
	return nil, ErrUnterminated
}

// read returns exactly n > 0 bytes at pa, capacity clipped so that the
// caller cannot append into the loader's memory, or false if the range
// wraps, is unreadable, or Memory misbehaves by returning too little.
func read(mem Memory, pa, n uint64) ([]byte, bool) {
	if n == 0 || pa+n < pa {
		return nil, false
	}
	b, ok := mem.Slice(pa, n)
	if !ok || uint64(len(b)) < n {
		return nil, false
	}
	return b[:n:n], true
}

// le32 and le64 decode little-endian integers. Callers guarantee the
// bytes exist; the explicit check turns a broken guarantee into a zero
// rather than a panic, which before the runtime would be a triple fault.
func le32(b []byte, off int) uint32 {
	if off < 0 || off > len(b)-4 {
		return 0
	}
	return uint32(b[off]) | uint32(b[off+1])<<8 | uint32(b[off+2])<<16 | uint32(b[off+3])<<24
}

func le64(b []byte, off int) uint64 {
	if off < 0 || off > len(b)-8 {
		return 0
	}
	return uint64(le32(b, off)) | uint64(le32(b, off+4))<<32
}

// satAdd returns a+b, or the largest uint64 if that overflows.
func satAdd(a, b uint64) uint64 {
	if a+b < a {
		return ^uint64(0)
	}
	return a + b
}
