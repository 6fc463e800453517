package acpi

import (
	"bytes"
	"fmt"
)

// AML opcodes and prefixes used by a Name(_S5_, Package(){...})
// definition (section 20.2).
const (
	amlNameOp      = 0x08
	amlRootChar    = '\\'
	amlPackageOp   = 0x12
	amlZeroOp      = 0x00
	amlOneOp       = 0x01
	amlOnesOp      = 0xFF
	amlBytePrefix  = 0x0A
	amlWordPrefix  = 0x0B
	amlDWordPrefix = 0x0C
	amlQWordPrefix = 0x0E

	maxSLPTyp = 7 // SLP_TYPx is a 3-bit field
)

// SleepType is the pair of SLP_TYP values for one sleep state: the
// first two elements of the \_Sx package (section 7.4.2).
type SleepType struct {
	SLPTypA, SLPTypB uint8
}

// ParseS5 finds the soft-off sleep type in AML bytecode, normally the
// DSDT body after its 36-byte header. It does not interpret AML; it
// looks for the byte pattern of a named package,
//
//	NameOp(0x08) ['\'] '_S5_' PackageOp(0x12) PkgLength NumElements Elem0 Elem1 ...
//
// whose first two elements are integer constants (ZeroOp, OneOp,
// OnesOp, or a Byte/Word/DWord/QWord prefix and value) no larger than 7.
// This is how every known firmware, QEMU's included, declares \_S5; a
// \_S5 computed by a method is not supported. Occurrences of "_S5_"
// that are not preceded by NameOp are references, not the definition,
// and are skipped. If no valid definition is found the error describes
// the first malformed one, or wraps ErrNoS5 if there was none.
//
// The scan is linear in len(aml) and allocates only for the error.
func ParseS5(aml []byte) (*SleepType, error) {
	var firstErr error
	for i := 0; i < len(aml); {
		j := bytes.Index(aml[i:], []byte("_S5_"))
		if j < 0 {
			break
		}
		at := i + j
		i = at + 1
		if !afterNameOp(aml, at) {
			continue
		}
		st, err := s5Package(aml, at+4)
		if err == nil {
			return st, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return nil, ErrNoS5
}

// afterNameOp reports whether the name segment at aml[at:] is the
// NameString operand of a NameOp, optionally rooted with '\'.
func afterNameOp(aml []byte, at int) bool {
	if at > 0 && aml[at-1] == amlRootChar {
		at--
	}
	return at > 0 && aml[at-1] == amlNameOp
}

// s5Package decodes the DataRefObject at aml[p:], which must be a
// package whose first two elements are small integer constants.
func s5Package(aml []byte, p int) (*SleepType, error) {
	if p >= len(aml) || aml[p] != amlPackageOp {
		return nil, fmt.Errorf("%w: \\_S5_ is not a package", ErrMalformed)
	}
	start := p + 1 // PkgLength counts from its own first byte
	length, n, err := pkgLength(aml[start:])
	if err != nil {
		return nil, err
	}
	if length > len(aml)-start {
		return nil, fmt.Errorf("%w: \\_S5_ package length %d runs past the end", ErrMalformed, length)
	}
	end := start + length
	p = start + n
	if p >= end {
		return nil, fmt.Errorf("%w: \\_S5_ package has no element count", ErrMalformed)
	}
	if count := aml[p]; count < 2 {
		return nil, fmt.Errorf("%w: \\_S5_ package has %d elements, need 2", ErrMalformed, count)
	}
	p++
	var typ [2]uint8
	for k := range typ {
		v, next, err := amlInteger(aml[:end], p)
		if err != nil {
			return nil, err
		}
		if v > maxSLPTyp {
			return nil, fmt.Errorf("%w: \\_S5_ SLP_TYP value %#x does not fit 3 bits", ErrMalformed, v)
		}
		typ[k] = uint8(v)
		p = next
	}
	return &SleepType{SLPTypA: typ[0], SLPTypB: typ[1]}, nil
}

// pkgLength decodes a PkgLength (section 20.2.4) from the start of b and
// returns the length it encodes and the number of bytes it occupies.
// The lead byte's top two bits give the count of following bytes. With
// none, its low six bits are the length; otherwise its low four bits
// are the least significant nibble, each following byte supplies the
// next eight bits, and bits 4-5 must be zero.
func pkgLength(b []byte) (length, n int, err error) {
	if len(b) == 0 {
		return 0, 0, fmt.Errorf("%w: truncated PkgLength", ErrMalformed)
	}
	lead := b[0]
	follow := int(lead >> 6)
	if follow == 0 {
		return int(lead & 0x3F), 1, nil
	}
	if lead&0x30 != 0 {
		return 0, 0, fmt.Errorf("%w: PkgLength lead byte %#02x has reserved bits set", ErrMalformed, lead)
	}
	if len(b) < 1+follow {
		return 0, 0, fmt.Errorf("%w: truncated PkgLength", ErrMalformed)
	}
	length = int(lead & 0x0F)
	for k := 0; k < follow; k++ {
		length |= int(b[1+k]) << (4 + 8*k)
	}
	return length, 1 + follow, nil
}

// amlInteger decodes an integer constant at b[p:] and returns it with
// the offset just past it.
func amlInteger(b []byte, p int) (v uint64, next int, err error) {
	if p < 0 || p >= len(b) {
		return 0, 0, fmt.Errorf("%w: \\_S5_ package ends before its second element", ErrMalformed)
	}
	var size int
	switch op := b[p]; op {
	case amlZeroOp:
		return 0, p + 1, nil
	case amlOneOp:
		return 1, p + 1, nil
	case amlOnesOp:
		return ^uint64(0), p + 1, nil
	case amlBytePrefix:
		size = 1
	case amlWordPrefix:
		size = 2
	case amlDWordPrefix:
		size = 4
	case amlQWordPrefix:
		size = 8
	default:
		return 0, 0, fmt.Errorf("%w: \\_S5_ element opcode %#02x is not an integer constant", ErrUnsupported, op)
	}
	if size > len(b)-p-1 {
		return 0, 0, fmt.Errorf("%w: truncated \\_S5_ element", ErrMalformed)
	}
	for k := size - 1; k >= 0; k-- {
		v = v<<8 | uint64(b[p+1+k])
	}
	return v, p + 1 + size, nil
}
