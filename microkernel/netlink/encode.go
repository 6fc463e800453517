package netlink

import (
	"encoding/binary"
	"net/netip"

	"gvisor.dev/gvisor/pkg/abi/linux"
)

// message builds one netlink message: a header, a fixed part, then
// attributes, each padded to four bytes (netlink(7), rtnetlink(7)).
// Integers are in the machine's byte order, as Linux sends them.
type message struct {
	b []byte
}

// newMessage starts a message of type typ answering seq, for port.
func newMessage(typ, flags uint16, seq, port uint32) *message {
	h := linux.NetlinkMessageHeader{Type: typ, Flags: flags, Seq: seq, PortID: port}
	m := &message{b: make([]byte, linux.NetlinkMessageHeaderSize, 512)}
	h.MarshalBytes(m.b)
	return m
}

// put appends a fixed part (ifinfomsg, ifaddrmsg, rtmsg, an errno),
// padded.
func (m *message) put(b []byte) {
	m.b = append(m.b, b...)
	m.pad()
}

func (m *message) pad() {
	for len(m.b)%linux.NLMSG_ALIGNTO != 0 {
		m.b = append(m.b, 0)
	}
}

// attr appends attribute typ with value v (struct nlattr, then v, then
// padding).
func (m *message) attr(typ uint16, v []byte) {
	h := linux.NetlinkAttrHeader{Length: uint16(linux.NetlinkAttrHeaderSize + len(v)), Type: typ}
	hb := make([]byte, linux.NetlinkAttrHeaderSize)
	h.MarshalBytes(hb)
	m.b = append(m.b, hb...)
	m.b = append(m.b, v...)
	m.pad()
}

func (m *message) u8(typ uint16, v uint8) { m.attr(typ, []byte{v}) }

func (m *message) u32(typ uint16, v uint32) {
	m.attr(typ, binary.NativeEndian.AppendUint32(nil, v))
}

// str appends a NUL-terminated string attribute (NLA_NUL_STRING).
func (m *message) str(typ uint16, s string) {
	m.attr(typ, append([]byte(s), 0))
}

// ip appends an address attribute: 4 bytes for IPv4, 16 for IPv6.
func (m *message) ip(typ uint16, a netip.Addr) {
	m.attr(typ, a.AsSlice())
}

// bytes finishes the message: its length goes into the header.
func (m *message) bytes() []byte {
	binary.NativeEndian.PutUint32(m.b[0:4], uint32(len(m.b)))
	return m.b
}

// u64s encodes vs as consecutive 64-bit fields, in n bytes.
func u64s(n int, vs ...uint64) []byte {
	b := make([]byte, n)
	for i, v := range vs {
		binary.NativeEndian.PutUint64(b[8*i:], v)
	}
	return b
}

// u32s encodes vs as consecutive 32-bit fields, in n bytes.
func u32s(n int, vs ...uint32) []byte {
	b := make([]byte, n)
	for i, v := range vs {
		binary.NativeEndian.PutUint32(b[4*i:], v)
	}
	return b
}
