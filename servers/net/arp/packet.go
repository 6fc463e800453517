package arp

import (
	"encoding/binary"
	"errors"

	"valence.dev/servers/net/ethernet"
)

// PacketLen is the length of an Ethernet/IPv4 ARP packet.
const PacketLen = 28

// Operation codes (RFC 826).
const (
	OpRequest uint16 = 1
	OpReply   uint16 = 2
)

// Packet is a decoded Ethernet/IPv4 ARP packet.
type Packet struct {
	Op        uint16
	SenderMAC ethernet.Address
	SenderIP  [4]byte
	TargetMAC ethernet.Address
	TargetIP  [4]byte
}

// ErrMalformed is returned by Parse for anything but a well-formed
// Ethernet/IPv4 request or reply.
var ErrMalformed = errors.New("arp: malformed packet")

// Parse decodes b. Trailing bytes (Ethernet padding) are ignored.
func Parse(b []byte) (Packet, error) {
	if len(b) < PacketLen {
		return Packet{}, ErrMalformed
	}
	if binary.BigEndian.Uint16(b[0:2]) != 1 || binary.BigEndian.Uint16(b[2:4]) != ethernet.TypeIPv4 ||
		b[4] != 6 || b[5] != 4 {
		return Packet{}, ErrMalformed
	}
	var p Packet
	p.Op = binary.BigEndian.Uint16(b[6:8])
	if p.Op != OpRequest && p.Op != OpReply {
		return Packet{}, ErrMalformed
	}
	copy(p.SenderMAC[:], b[8:14])
	copy(p.SenderIP[:], b[14:18])
	copy(p.TargetMAC[:], b[18:24])
	copy(p.TargetIP[:], b[24:28])
	return p, nil
}

// Encode writes p into b, which must hold PacketLen bytes.
func (p Packet) Encode(b []byte) {
	binary.BigEndian.PutUint16(b[0:2], 1)
	binary.BigEndian.PutUint16(b[2:4], ethernet.TypeIPv4)
	b[4], b[5] = 6, 4
	binary.BigEndian.PutUint16(b[6:8], p.Op)
	copy(b[8:14], p.SenderMAC[:])
	copy(b[14:18], p.SenderIP[:])
	copy(b[18:24], p.TargetMAC[:])
	copy(b[24:28], p.TargetIP[:])
}
