package icmp

import (
	"encoding/binary"
	"errors"

	"valence.dev/servers/net/checksum"
)

// HeaderLen is the fixed part of every message.
const HeaderLen = 8

// Message types (RFC 792).
const (
	TypeEchoReply    uint8 = 0
	TypeUnreachable  uint8 = 3
	TypeEchoRequest  uint8 = 8
	TypeTimeExceeded uint8 = 11
	TypeParamProblem uint8 = 12
)

// Destination unreachable codes (RFC 792, RFC 1122 section 3.2.2.1).
const (
	CodeNetUnreachable   uint8 = 0
	CodeHostUnreachable  uint8 = 1
	CodeProtoUnreachable uint8 = 2
	CodePortUnreachable  uint8 = 3
	CodeFragNeeded       uint8 = 4
)

// Message is a decoded ICMP message.
type Message struct {
	Type, Code uint8
	Rest       [4]byte // identifier and sequence for echo
	Data       []byte
}

// ID and Seq return the echo identifier and sequence number.
func (m *Message) ID() uint16 { return binary.BigEndian.Uint16(m.Rest[0:2]) }

// Seq returns the echo sequence number.
func (m *Message) Seq() uint16 { return binary.BigEndian.Uint16(m.Rest[2:4]) }

// Echo returns an echo request or reply.
func Echo(typ uint8, id, seq uint16, data []byte) Message {
	m := Message{Type: typ, Data: data}
	binary.BigEndian.PutUint16(m.Rest[0:2], id)
	binary.BigEndian.PutUint16(m.Rest[2:4], seq)
	return m
}

// IsError reports whether the type is an error message (RFC 1122 section
// 3.2.2: errors are never answered with errors).
func (m *Message) IsError() bool {
	switch m.Type {
	case TypeUnreachable, TypeTimeExceeded, TypeParamProblem, 4, 5:
		return true
	}
	return false
}

// Errors returned by Parse.
var (
	ErrShort    = errors.New("icmp: message shorter than header")
	ErrChecksum = errors.New("icmp: bad checksum")
)

// Parse decodes b, verifying its checksum. Data aliases b.
func Parse(b []byte) (Message, error) {
	if len(b) < HeaderLen {
		return Message{}, ErrShort
	}
	if checksum.Checksum(b) != 0 {
		return Message{}, ErrChecksum
	}
	m := Message{Type: b[0], Code: b[1], Data: b[HeaderLen:]}
	copy(m.Rest[:], b[4:8])
	return m, nil
}

// Len returns the encoded length.
func (m *Message) Len() int { return HeaderLen + len(m.Data) }

// Encode writes m with its checksum into b, which must hold Len bytes.
func (m *Message) Encode(b []byte) {
	b[0], b[1], b[2], b[3] = m.Type, m.Code, 0, 0
	copy(b[4:8], m.Rest[:])
	copy(b[HeaderLen:], m.Data)
	binary.BigEndian.PutUint16(b[2:4], checksum.Checksum(b[:m.Len()]))
}
