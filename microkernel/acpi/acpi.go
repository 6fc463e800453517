package acpi

import (
	"errors"
	"fmt"
	"strings"
)

// Limits on what Parse is willing to read. They exist so that corrupt or
// hostile tables cannot make Parse allocate or compute without bound.
const (
	// MaxTableLength is the largest table length accepted. Real DSDTs
	// are tens to a few hundred KiB.
	MaxTableLength = 1 << 20
	// MaxRootEntries is the number of RSDT/XSDT entries examined.
	// Entries beyond it are reported in Tables.Problems and ignored.
	MaxRootEntries = 512

	headerSize = 36 // system description table header (section 5.2.6)
)

// Memory gives read access to physical memory. Slice returns the n bytes
// at physical address pa, or ok=false if that range is not readable. It
// has the same shape as multiboot.Memory so one kernel type serves both.
type Memory interface {
	Slice(pa, n uint64) (b []byte, ok bool)
}

// Sentinel errors. Errors from this package wrap one of them, usually
// inside a *TableError that says which table was at fault, so callers
// test with errors.Is and errors.As.
var (
	ErrNotFound    = errors.New("acpi: RSDP not found")
	ErrUnreadable  = errors.New("acpi: memory not readable")
	ErrSignature   = errors.New("acpi: wrong signature")
	ErrLength      = errors.New("acpi: bad length")
	ErrChecksum    = errors.New("acpi: bad checksum")
	ErrMalformed   = errors.New("acpi: malformed table")
	ErrUnsupported = errors.New("acpi: unsupported")
	ErrNoFADT      = errors.New("acpi: no usable FADT")
	ErrNoS5        = errors.New("acpi: no usable \\_S5_ object")
)

// TableError reports a problem with one table.
type TableError struct {
	Signature string // "RSDP", "XSDT", "FACP", ...; as found, or as expected if unreadable
	Addr      uint64 // physical address of the table
	Err       error  // wraps one of the sentinel errors
}

func (e *TableError) Error() string {
	// The wrapped sentinels carry the package prefix too; say it once.
	msg := "<nil>"
	if e.Err != nil {
		msg = strings.TrimPrefix(e.Err.Error(), "acpi: ")
	}
	return fmt.Sprintf("acpi: %s table at %#x: %s", printable(e.Signature), e.Addr, msg)
}

func (e *TableError) Unwrap() error { return e.Err }

// Tables is what Parse learned from the firmware's tables.
type Tables struct {
	RSDPAddr uint64
	Revision uint8  // RSDP revision: 0 for ACPI 1.0, 2 for 2.0 and later
	OEMID    string // from the RSDP, trailing spaces and NULs removed

	Root     string // "XSDT" or "RSDT": the root table actually used
	RootAddr uint64

	FADT *FADT // nil if absent or rejected (see Problems)
	MADT *MADT // nil if absent or rejected (see Problems)
	MCFG *MCFG // nil if absent or rejected (see Problems)
	DMAR *DMAR // nil if absent or rejected (see Problems): no VT-d

	// Signatures lists every table that was read and verified, in the
	// order visited: the root table, its entries, then the DSDT.
	Signatures []string

	// Problems lists tables that were skipped or only partly used and
	// why, each a *TableError. They do not make Parse fail: a bad
	// table the kernel does not need should not stop it from booting.
	Problems []error
}

// Parse reads the tables reachable from the RSDP at rsdpPA. It fails only
// if the RSDP or the root table is unusable; see the package
// documentation for how individual bad tables are handled.
func Parse(mem Memory, rsdpPA uint64) (*Tables, error) {
	if mem == nil {
		return nil, &TableError{Signature: "RSDP", Addr: rsdpPA, Err: ErrUnreadable}
	}
	r, err := readRSDP(mem, rsdpPA)
	if err != nil {
		return nil, err
	}
	t := &Tables{RSDPAddr: rsdpPA, Revision: r.revision, OEMID: r.oemID}

	var entries []uint64
	var total int
	if r.revision >= 2 && r.xsdt != 0 {
		entries, total, err = readRoot(mem, r.xsdt, "XSDT", 8)
		switch {
		case err == nil:
			t.Root, t.RootAddr = "XSDT", r.xsdt
		case r.rsdt == 0:
			return nil, err
		default:
			// A broken XSDT with an intact RSDT is survivable:
			// both list the same tables.
			t.Problems = append(t.Problems, err)
		}
	}
	if t.Root == "" {
		if r.rsdt == 0 {
			return nil, &TableError{Signature: "RSDP", Addr: rsdpPA,
				Err: fmt.Errorf("%w: no usable root table address", ErrMalformed)}
		}
		entries, total, err = readRoot(mem, uint64(r.rsdt), "RSDT", 4)
		if err != nil {
			return nil, err
		}
		t.Root, t.RootAddr = "RSDT", uint64(r.rsdt)
	}
	t.Signatures = append(t.Signatures, t.Root)

	if total > len(entries) {
		t.problem(t.Root, t.RootAddr, fmt.Errorf("%w: %d entries, only the first %d examined",
			ErrLength, total, len(entries)))
	}
	seen := make(map[uint64]bool, len(entries))
	for i, pa := range entries {
		if pa == 0 {
			t.problem(t.Root, t.RootAddr, fmt.Errorf("%w: entry %d is null", ErrMalformed, i))
			continue
		}
		if seen[pa] {
			// Reading it again would only repeat work (and, for a
			// hostile root, multiply it).
			t.problem(t.Root, t.RootAddr, fmt.Errorf("%w: entry %d repeats table at %#x", ErrMalformed, i, pa))
			continue
		}
		seen[pa] = true
		sig, tbl, err := readTable(mem, pa, "")
		if err != nil {
			t.Problems = append(t.Problems, err)
			continue
		}
		t.Signatures = append(t.Signatures, sig)
		t.use(sig, pa, tbl)
	}
	if t.FADT != nil {
		t.loadS5(mem)
	}
	return t, nil
}

// use interprets a verified table if it is one this package knows.
func (t *Tables) use(sig string, pa uint64, tbl []byte) {
	switch sig {
	case "FACP":
		if t.FADT != nil {
			t.problem(sig, pa, fmt.Errorf("%w: second FADT ignored", ErrMalformed))
			return
		}
		f, err := ParseFADT(tbl)
		if err != nil {
			t.problem(sig, pa, err)
			return
		}
		t.FADT = f
	case "APIC":
		if t.MADT != nil {
			t.problem(sig, pa, fmt.Errorf("%w: second MADT ignored", ErrMalformed))
			return
		}
		m, err := ParseMADT(tbl)
		if err != nil {
			t.problem(sig, pa, err)
			return
		}
		t.MADT = m
	case "MCFG":
		if t.MCFG != nil {
			t.problem(sig, pa, fmt.Errorf("%w: second MCFG ignored", ErrMalformed))
			return
		}
		m, err := ParseMCFG(tbl)
		if err != nil {
			t.problem(sig, pa, err)
			return
		}
		t.MCFG = m
	case "DMAR":
		if t.DMAR != nil {
			t.problem(sig, pa, fmt.Errorf("%w: second DMAR ignored", ErrMalformed))
			return
		}
		d, err := ParseDMAR(tbl)
		if err != nil {
			t.problem(sig, pa, err)
			return
		}
		t.DMAR = d
	}
}

// loadS5 reads the DSDT named by the FADT and extracts \_S5_ into it.
func (t *Tables) loadS5(mem Memory) {
	pa := t.FADT.DSDT
	if pa == 0 {
		t.problem("DSDT", 0, fmt.Errorf("%w: FADT gives no DSDT address", ErrMalformed))
		return
	}
	_, tbl, err := readTable(mem, pa, "DSDT")
	if err != nil {
		t.Problems = append(t.Problems, err)
		return
	}
	t.Signatures = append(t.Signatures, "DSDT")
	s5, err := ParseS5(tbl[headerSize:])
	if err != nil {
		t.problem("DSDT", pa, err)
		return
	}
	t.FADT.S5 = s5
}

func (t *Tables) problem(sig string, pa uint64, err error) {
	t.Problems = append(t.Problems, &TableError{Signature: sig, Addr: pa, Err: err})
}

// readRoot reads an RSDT (width 4) or XSDT (width 8) and returns its
// first MaxRootEntries entries and how many it has in all, so that a
// corrupt root cannot make Parse allocate for a quarter of a million
// entries it will not examine.
func readRoot(mem Memory, pa uint64, sig string, width int) (entries []uint64, total int, err error) {
	_, tbl, err := readTable(mem, pa, sig)
	if err != nil {
		return nil, 0, err
	}
	body := tbl[headerSize:]
	if len(body)%width != 0 {
		return nil, 0, &TableError{Signature: sig, Addr: pa,
			Err: fmt.Errorf("%w: %d bytes of entries is not a multiple of %d", ErrLength, len(body), width)}
	}
	total = len(body) / width
	entries = make([]uint64, min(total, MaxRootEntries))
	for i := range entries {
		if width == 8 {
			entries[i] = le64(body, i*8)
		} else {
			entries[i] = uint64(le32(body, i*4))
		}
	}
	return entries, total, nil
}

// readTable reads and verifies the table at pa: header readable, length
// within [headerSize, MaxTableLength], whole table readable, checksum
// zero, and signature equal to want unless want is "". The result
// aliases physical memory and has exactly the header's length.
func readTable(mem Memory, pa uint64, want string) (sig string, tbl []byte, err error) {
	name := want
	if name == "" {
		name = "unknown"
	}
	hdr, ok := read(mem, pa, headerSize)
	if !ok {
		return "", nil, &TableError{Signature: name, Addr: pa, Err: ErrUnreadable}
	}
	sig = string(hdr[:4])
	if want != "" && sig != want {
		return "", nil, &TableError{Signature: want, Addr: pa,
			Err: fmt.Errorf("%w: found %q", ErrSignature, sig)}
	}
	tbl, err = readVerified(mem, pa, le32(hdr, 4))
	if err != nil {
		return "", nil, &TableError{Signature: sig, Addr: pa, Err: err}
	}
	return sig, tbl, nil
}

// readVerified reads length bytes at pa and checks their checksum.
func readVerified(mem Memory, pa uint64, length uint32) ([]byte, error) {
	if length < headerSize || length > MaxTableLength {
		return nil, fmt.Errorf("%w: length %d outside [%d, %d]", ErrLength, length, headerSize, MaxTableLength)
	}
	tbl, ok := read(mem, pa, uint64(length))
	if !ok {
		return nil, fmt.Errorf("%w: %d bytes", ErrUnreadable, length)
	}
	if s := sum(tbl); s != 0 {
		return nil, fmt.Errorf("%w: bytes sum to %#02x", ErrChecksum, s)
	}
	return tbl, nil
}

// checkTable verifies a table handed over as bytes (by ParseFADT and
// ParseMADT): signature, a length field that fits in b and covers at
// least min bytes, and the checksum. It returns b cut to that length.
func checkTable(b []byte, want string, min int) ([]byte, error) {
	if len(b) < headerSize {
		return nil, fmt.Errorf("%w: %d bytes is shorter than a header", ErrLength, len(b))
	}
	if sig := string(b[:4]); sig != want {
		return nil, fmt.Errorf("%w: found %q, want %q", ErrSignature, sig, want)
	}
	n := le32(b, 4)
	if uint64(n) > uint64(len(b)) || int(n) < min {
		return nil, fmt.Errorf("%w: length field %d, have %d bytes, need at least %d", ErrLength, n, len(b), min)
	}
	b = b[:n]
	if s := sum(b); s != 0 {
		return nil, fmt.Errorf("%w: bytes sum to %#02x", ErrChecksum, s)
	}
	return b, nil
}

// read returns exactly n bytes at pa, capacity clipped, or false if the
// range wraps, is unreadable, or Memory returns less than asked.
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

func sum(b []byte) uint8 {
	var s uint8
	for _, c := range b {
		s += c
	}
	return s
}

// le16, le32 and le64 decode little-endian integers, returning 0 rather
// than panicking if the bytes are not there; callers check lengths
// first, so a 0 from here would indicate a bug, not bad input.
func le16(b []byte, off int) uint16 {
	if off < 0 || off > len(b)-2 {
		return 0
	}
	return uint16(b[off]) | uint16(b[off+1])<<8
}

func le32(b []byte, off int) uint32 {
	if off < 0 || off > len(b)-4 {
		return 0
	}
	return uint32(le16(b, off)) | uint32(le16(b, off+2))<<16
}

func le64(b []byte, off int) uint64 {
	if off < 0 || off > len(b)-8 {
		return 0
	}
	return uint64(le32(b, off)) | uint64(le32(b, off+4))<<32
}

// printable replaces bytes outside printable ASCII so that a corrupt
// signature cannot garble a log line.
func printable(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}
