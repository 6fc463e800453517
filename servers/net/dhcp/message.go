package dhcp

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"time"

	"valence.dev/servers/net/ethernet"
)

// Ports (RFC 2131 section 4.1).
const (
	ServerPort = 67
	ClientPort = 68
)

// Message types (RFC 2132 section 9.6).
const (
	Discover uint8 = 1
	Offer    uint8 = 2
	Request  uint8 = 3
	Decline  uint8 = 4
	Ack      uint8 = 5
	Nak      uint8 = 6
	Release  uint8 = 7
	Inform   uint8 = 8
)

// Option codes (RFC 2132).
const (
	OptPad          = 0
	OptSubnetMask   = 1
	OptRouter       = 3
	OptDNS          = 6
	OptHostname     = 12
	OptRequestedIP  = 50
	OptLeaseTime    = 51
	OptMessageType  = 53
	OptServerID     = 54
	OptParamRequest = 55
	OptRenewalT1    = 58
	OptRebindingT2  = 59
	OptClientID     = 61
	OptEnd          = 255
)

const (
	opRequest  = 1
	opReply    = 2
	fixedLen   = 236
	flagBcast  = 0x8000
	minMsgSize = fixedLen + 4 + 1
)

var magic = [4]byte{99, 130, 83, 99}

// Message is a decoded DHCP message. Options not given fields are kept in
// Options by code.
type Message struct {
	Op        uint8
	XID       uint32
	Secs      uint16
	Broadcast bool
	CIAddr    netip.Addr // client's current address (renewing)
	YIAddr    netip.Addr // "your" address: the one offered
	SIAddr    netip.Addr
	GIAddr    netip.Addr
	CHAddr    ethernet.Address

	Type    uint8
	Options map[uint8][]byte
}

// ErrMalformed is returned by Parse.
var ErrMalformed = errors.New("dhcp: malformed message")

// Parse decodes b.
func Parse(b []byte) (*Message, error) {
	if len(b) < minMsgSize || b[1] != 1 || b[2] != 6 || [4]byte(b[fixedLen:fixedLen+4]) != magic {
		return nil, ErrMalformed
	}
	m := &Message{
		Op:        b[0],
		XID:       binary.BigEndian.Uint32(b[4:8]),
		Secs:      binary.BigEndian.Uint16(b[8:10]),
		Broadcast: binary.BigEndian.Uint16(b[10:12])&flagBcast != 0,
		CIAddr:    netip.AddrFrom4([4]byte(b[12:16])),
		YIAddr:    netip.AddrFrom4([4]byte(b[16:20])),
		SIAddr:    netip.AddrFrom4([4]byte(b[20:24])),
		GIAddr:    netip.AddrFrom4([4]byte(b[24:28])),
		CHAddr:    ethernet.Address(b[28:34]),
		Options:   make(map[uint8][]byte),
	}
	o := b[fixedLen+4:]
	for len(o) > 0 {
		code := o[0]
		if code == OptEnd {
			break
		}
		if code == OptPad {
			o = o[1:]
			continue
		}
		if len(o) < 2 || int(o[1])+2 > len(o) {
			return nil, ErrMalformed
		}
		n := 2 + int(o[1]) // an int: 2+o[1] as a byte would wrap
		// RFC 3396: an option repeated is concatenated.
		m.Options[code] = append(m.Options[code], o[2:n]...)
		o = o[n:]
	}
	if t := m.Options[OptMessageType]; len(t) == 1 {
		m.Type = t[0]
	} else {
		return nil, ErrMalformed
	}
	return m, nil
}

// Marshal encodes m, with Type as option 53 first.
func (m *Message) Marshal() []byte {
	b := make([]byte, fixedLen+4, 300)
	b[0], b[1], b[2] = m.Op, 1, 6
	binary.BigEndian.PutUint32(b[4:8], m.XID)
	binary.BigEndian.PutUint16(b[8:10], m.Secs)
	if m.Broadcast {
		binary.BigEndian.PutUint16(b[10:12], flagBcast)
	}
	put := func(off int, a netip.Addr) {
		if a.Is4() {
			v := a.As4()
			copy(b[off:off+4], v[:])
		}
	}
	put(12, m.CIAddr)
	put(16, m.YIAddr)
	put(20, m.SIAddr)
	put(24, m.GIAddr)
	copy(b[28:34], m.CHAddr[:])
	copy(b[fixedLen:], magic[:])
	b = append(b, OptMessageType, 1, m.Type)
	for code := 1; code < 255; code++ { // sorted, for reproducible output
		v, ok := m.Options[uint8(code)]
		if !ok || code == OptMessageType {
			continue
		}
		for len(v) > 255 {
			b = append(b, uint8(code), 255)
			b = append(b, v[:255]...)
			v = v[255:]
		}
		b = append(b, uint8(code), uint8(len(v)))
		b = append(b, v...)
	}
	b = append(b, OptEnd)
	for len(b) < 300 { // BOOTP minimum (RFC 1542 section 2.1)
		b = append(b, 0)
	}
	return b
}

// Addr returns the first address in option code.
func (m *Message) Addr(code uint8) (netip.Addr, bool) {
	v := m.Options[code]
	if len(v) < 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte(v[:4])), true
}

// Addrs returns every address in option code.
func (m *Message) Addrs(code uint8) []netip.Addr {
	var out []netip.Addr
	for v := m.Options[code]; len(v) >= 4; v = v[4:] {
		out = append(out, netip.AddrFrom4([4]byte(v[:4])))
	}
	return out
}

// Duration returns a 32-bit seconds option.
func (m *Message) Duration(code uint8) (time.Duration, bool) {
	v := m.Options[code]
	if len(v) != 4 {
		return 0, false
	}
	return time.Duration(binary.BigEndian.Uint32(v)) * time.Second, true
}

// SetAddr sets an address option.
func (m *Message) SetAddr(code uint8, a netip.Addr) {
	v := a.As4()
	m.setOpt(code, v[:])
}

// SetDuration sets a seconds option.
func (m *Message) SetDuration(code uint8, d time.Duration) {
	var v [4]byte
	binary.BigEndian.PutUint32(v[:], uint32(d/time.Second))
	m.setOpt(code, v[:])
}

func (m *Message) setOpt(code uint8, v []byte) {
	if m.Options == nil {
		m.Options = make(map[uint8][]byte)
	}
	m.Options[code] = v
}
