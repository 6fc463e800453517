package ethernet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
)

// HeaderLen is the length of an Ethernet II header.
const HeaderLen = 14

// MinFrameLen is the shortest frame a sender puts on the wire, without FCS.
const MinFrameLen = 60

// EtherTypes the stack understands (IANA "IEEE 802 Numbers").
const (
	TypeIPv4 uint16 = 0x0800
	TypeARP  uint16 = 0x0806
)

// Address is a 48-bit MAC address.
type Address [6]byte

// Broadcast is the all-ones address.
var Broadcast = Address{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// IsMulticast reports whether the group bit is set (broadcast included).
func (a Address) IsMulticast() bool { return a[0]&1 != 0 }

func (a Address) String() string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3], a[4], a[5])
}

// ParseAddress parses the colon-separated hexadecimal form.
func ParseAddress(s string) (Address, error) {
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 {
		return Address{}, fmt.Errorf("ethernet: bad address %q", s)
	}
	return Address(hw), nil
}

// Header is a decoded Ethernet II header.
type Header struct {
	Dst, Src Address
	Type     uint16
}

// Errors reported by Parse.
var (
	ErrShort    = errors.New("ethernet: frame shorter than header")
	ErrNotTyped = errors.New("ethernet: 802.3 length field, not an EtherType")
)

// Parse decodes the header of frame and returns it with the payload.
func Parse(frame []byte) (Header, []byte, error) {
	if len(frame) < HeaderLen {
		return Header{}, nil, ErrShort
	}
	var h Header
	copy(h.Dst[:], frame[0:6])
	copy(h.Src[:], frame[6:12])
	h.Type = binary.BigEndian.Uint16(frame[12:14])
	if h.Type < 0x0600 {
		return h, nil, ErrNotTyped
	}
	return h, frame[HeaderLen:], nil
}

// Encode writes h into the first HeaderLen bytes of b.
func (h Header) Encode(b []byte) {
	copy(b[0:6], h.Dst[:])
	copy(b[6:12], h.Src[:])
	binary.BigEndian.PutUint16(b[12:14], h.Type)
}

// PadTo extends frame with zeros to at least MinFrameLen bytes, reusing its
// capacity when it can.
func PadTo(frame []byte) []byte {
	for len(frame) < MinFrameLen {
		frame = append(frame, 0)
	}
	return frame
}
