package dns

import (
	"encoding/binary"
	"errors"
	"strings"
)

// Record types and class (RFC 1035 section 3.2.2).
const (
	TypeA     uint16 = 1
	TypeNS    uint16 = 2
	TypeCNAME uint16 = 5
	TypeSOA   uint16 = 6
	TypeAAAA  uint16 = 28
	ClassIN   uint16 = 1
)

// Response codes (RFC 1035 section 4.1.1).
const (
	RcodeSuccess  = 0
	RcodeServFail = 2
	RcodeNXDomain = 3
)

// Header flag bits.
const (
	flagQR = 1 << 15
	flagTC = 1 << 9
	flagRD = 1 << 8
	flagRA = 1 << 7
)

// Question is one entry of the question section.
type Question struct {
	Name  string // lower case, no trailing dot
	Type  uint16
	Class uint16
}

// Record is a resource record. For A records Data is the 4-byte address;
// for CNAME, Target holds the decoded name.
type Record struct {
	Name   string
	Type   uint16
	Class  uint16
	TTL    uint32
	Data   []byte
	Target string
	// MinTTL is the SOA MINIMUM field, for negative caching.
	MinTTL uint32
}

// Message is a DNS message.
type Message struct {
	ID                                   uint16
	Response                             bool
	Truncated                            bool
	RecursionDesired, RecursionAvailable bool
	Rcode                                int
	Questions                            []Question
	Answers                              []Record
	Authority                            []Record
}

// Errors from parsing.
var (
	ErrShort    = errors.New("dns: message truncated")
	ErrName     = errors.New("dns: malformed name")
	ErrLabelLen = errors.New("dns: label longer than 63 bytes")
	ErrNameLen  = errors.New("dns: name longer than 255 bytes")
	ErrPointer  = errors.New("dns: bad compression pointer")
)

// Marshal encodes m without compression.
func (m *Message) Marshal() ([]byte, error) {
	b := make([]byte, 12, 512)
	binary.BigEndian.PutUint16(b[0:], m.ID)
	var fl uint16
	if m.Response {
		fl |= flagQR
	}
	if m.Truncated {
		fl |= flagTC
	}
	if m.RecursionDesired {
		fl |= flagRD
	}
	if m.RecursionAvailable {
		fl |= flagRA
	}
	fl |= uint16(m.Rcode & 0xf)
	binary.BigEndian.PutUint16(b[2:], fl)
	binary.BigEndian.PutUint16(b[4:], uint16(len(m.Questions)))
	binary.BigEndian.PutUint16(b[6:], uint16(len(m.Answers)))
	binary.BigEndian.PutUint16(b[8:], uint16(len(m.Authority)))
	var err error
	for _, q := range m.Questions {
		if b, err = appendName(b, q.Name); err != nil {
			return nil, err
		}
		b = binary.BigEndian.AppendUint16(b, q.Type)
		b = binary.BigEndian.AppendUint16(b, q.Class)
	}
	for _, r := range append(append([]Record(nil), m.Answers...), m.Authority...) {
		if b, err = appendName(b, r.Name); err != nil {
			return nil, err
		}
		b = binary.BigEndian.AppendUint16(b, r.Type)
		b = binary.BigEndian.AppendUint16(b, r.Class)
		b = binary.BigEndian.AppendUint32(b, r.TTL)
		data := r.Data
		if r.Type == TypeCNAME {
			if data, err = appendName(nil, r.Target); err != nil {
				return nil, err
			}
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
		b = append(b, data...)
	}
	return b, nil
}

// appendName encodes a dotted name as labels (RFC 1035 section 3.1).
func appendName(b []byte, name string) ([]byte, error) {
	name = strings.TrimSuffix(name, ".")
	if len(name)+2 > 255 {
		return nil, ErrNameLen
	}
	if name != "" {
		for _, l := range strings.Split(name, ".") {
			if l == "" {
				return nil, ErrName
			}
			if len(l) > 63 {
				return nil, ErrLabelLen
			}
			b = append(b, byte(len(l)))
			b = append(b, l...)
		}
	}
	return append(b, 0), nil
}

// Parse decodes a message.
func Parse(b []byte) (*Message, error) {
	if len(b) < 12 {
		return nil, ErrShort
	}
	fl := binary.BigEndian.Uint16(b[2:])
	m := &Message{
		ID:                 binary.BigEndian.Uint16(b[0:]),
		Response:           fl&flagQR != 0,
		Truncated:          fl&flagTC != 0,
		RecursionDesired:   fl&flagRD != 0,
		RecursionAvailable: fl&flagRA != 0,
		Rcode:              int(fl & 0xf),
	}
	qd, an, ns := int(binary.BigEndian.Uint16(b[4:])), int(binary.BigEndian.Uint16(b[6:])), int(binary.BigEndian.Uint16(b[8:]))
	off := 12
	for i := 0; i < qd; i++ {
		name, n, err := readName(b, off)
		if err != nil {
			return nil, err
		}
		off = n
		if off+4 > len(b) {
			return nil, ErrShort
		}
		m.Questions = append(m.Questions, Question{Name: name, Type: binary.BigEndian.Uint16(b[off:]), Class: binary.BigEndian.Uint16(b[off+2:])})
		off += 4
	}
	for i := 0; i < an+ns; i++ {
		r, n, err := readRecord(b, off)
		if err != nil {
			return nil, err
		}
		off = n
		if i < an {
			m.Answers = append(m.Answers, r)
		} else {
			m.Authority = append(m.Authority, r)
		}
	}
	return m, nil
}

func readRecord(b []byte, off int) (Record, int, error) {
	name, off, err := readName(b, off)
	if err != nil {
		return Record{}, 0, err
	}
	if off+10 > len(b) {
		return Record{}, 0, ErrShort
	}
	r := Record{Name: name, Type: binary.BigEndian.Uint16(b[off:]), Class: binary.BigEndian.Uint16(b[off+2:]),
		TTL: binary.BigEndian.Uint32(b[off+4:])}
	rdlen := int(binary.BigEndian.Uint16(b[off+8:]))
	off += 10
	if off+rdlen > len(b) {
		return Record{}, 0, ErrShort
	}
	r.Data = b[off : off+rdlen]
	switch r.Type {
	case TypeCNAME:
		if r.Target, _, err = readName(b, off); err != nil {
			return Record{}, 0, err
		}
	case TypeSOA:
		// MNAME, RNAME, then five 32-bit fields; MINIMUM is the last.
		_, p, err := readName(b, off)
		if err == nil {
			_, p, err = readName(b, p)
		}
		if err == nil && p+20 <= off+rdlen {
			r.MinTTL = binary.BigEndian.Uint32(b[p+16:])
		}
	}
	return r, off + rdlen, nil
}

// readName decodes the name at off and returns it with the offset just
// past it in the original (not pointed-to) data.
func readName(b []byte, off int) (string, int, error) {
	var sb strings.Builder
	end := -1
	jumps := 0
	total := 0
	for {
		if off >= len(b) {
			return "", 0, ErrShort
		}
		l := int(b[off])
		switch {
		case l == 0:
			if end < 0 {
				end = off + 1
			}
			return strings.ToLower(sb.String()), end, nil
		case l&0xc0 == 0xc0:
			if off+1 >= len(b) {
				return "", 0, ErrShort
			}
			ptr := int(binary.BigEndian.Uint16(b[off:]) & 0x3fff)
			if ptr >= off || jumps >= 64 {
				return "", 0, ErrPointer // only backwards, and not forever
			}
			if end < 0 {
				end = off + 2
			}
			off = ptr
			jumps++
		case l&0xc0 != 0:
			return "", 0, ErrName // the reserved 01 and 10 label types
		default:
			if off+1+l > len(b) {
				return "", 0, ErrShort
			}
			total += l + 1
			if total > 255 {
				return "", 0, ErrNameLen
			}
			if sb.Len() > 0 {
				sb.WriteByte('.')
			}
			sb.Write(b[off+1 : off+1+l])
			off += 1 + l
		}
	}
}
