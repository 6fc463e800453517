package multiboot

// Error is the type of every error this package returns. The values are
// constants rather than errors.New variables because Parse runs before
// package initialisation; see the package documentation.
type Error uint8

// Errors returned by Parse. All but ErrTooManyRegions leave the Info
// cleared.
const (
	// ErrNilArgument: the Memory or the *Info passed to Parse is nil.
	ErrNilArgument Error = iota + 1
	// ErrBadMagic: EAX did not hold BootloaderMagic, so EBX is not known
	// to point at a Multiboot information structure.
	ErrBadMagic
	// ErrTruncated: a structure, list or string the loader pointed at is
	// not (entirely) readable, or its address range wraps around.
	ErrTruncated
	// ErrUnterminated: a string has no NUL within MaxCmdline bytes.
	ErrUnterminated
	// ErrBadMmap: the memory map is longer than MaxMmapLength, or an
	// entry's size field is below 20 or runs past mmap_length.
	ErrBadMmap
	// ErrTooManyRegions: the memory map has more than MaxRegions entries.
	// Only the first MaxRegions were kept; everything else was parsed.
	ErrTooManyRegions
	// ErrTooManyModules: mods_count exceeds MaxModules.
	ErrTooManyModules
	// ErrBadModule: a module ends before it starts.
	ErrBadModule
)

// errText is indexed by Error. It is a composite literal of constants,
// which the compiler lays out as static data, so Error works even before
// package initialisation has run.
var errText = [...]string{
	0:                 "multiboot: unknown error",
	ErrNilArgument:    "multiboot: nil Memory or Info",
	ErrBadMagic:       "multiboot: bad bootloader magic",
	ErrTruncated:      "multiboot: boot information not readable",
	ErrUnterminated:   "multiboot: string not NUL-terminated within limit",
	ErrBadMmap:        "multiboot: malformed memory map",
	ErrTooManyRegions: "multiboot: too many memory map entries (truncated)",
	ErrTooManyModules: "multiboot: too many boot modules",
	ErrBadModule:      "multiboot: module ends before it starts",
}

// Error returns a fixed description of e.
func (e Error) Error() string {
	if int(e) < len(errText) {
		return errText[e]
	}
	return errText[0]
}
