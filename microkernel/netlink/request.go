package netlink

import (
	"encoding/binary"

	"gvisor.dev/gvisor/pkg/abi/linux"
)

// Request is one message of what a program sent.
type Request struct {
	Header  linux.NetlinkMessageHeader
	Payload []byte // the nlmsg_len-16 bytes after the header
	Raw     []byte // header and payload, as sent (echoed in NLMSG_ERROR)
}

// SplitRequests cuts b into messages as Linux's netlink_rcv_skb walks a
// send: while a whole header remains, a message runs for its nlmsg_len,
// then to the next four-byte boundary. A message whose nlmsg_len is
// shorter than its header or longer than what remains ends the walk
// without an answer, as on Linux; so do trailing bytes too few for a
// header. The messages alias b.
func SplitRequests(b []byte) []Request {
	var reqs []Request
	for len(b) >= linux.NetlinkMessageHeaderSize {
		var h linux.NetlinkMessageHeader
		h.UnmarshalBytes(b)
		if h.Length < linux.NetlinkMessageHeaderSize || uint64(h.Length) > uint64(len(b)) {
			break
		}
		n := int(h.Length)
		reqs = append(reqs, Request{Header: h, Payload: b[linux.NetlinkMessageHeaderSize:n], Raw: b[:n]})
		b = b[min(align(n), len(b)):]
	}
	return reqs
}

// attrs are a request's attributes by type (the first of each type), as
// Linux's liberal parsing (nlmsg_parse_deprecated) takes them: a walk
// that stops at the first attribute whose length is too short or runs
// past the end, without error.
type attrs map[uint16][]byte

// parseAttrs reads the attributes in b.
func parseAttrs(b []byte) attrs {
	a := attrs{}
	for len(b) >= linux.NetlinkAttrHeaderSize {
		n := int(binary.NativeEndian.Uint16(b[0:2]))
		typ := binary.NativeEndian.Uint16(b[2:4]) & linux.NLA_TYPE_MASK
		if n < linux.NetlinkAttrHeaderSize || n > len(b) {
			break
		}
		if _, seen := a[typ]; !seen {
			a[typ] = b[linux.NetlinkAttrHeaderSize:n]
		}
		b = b[min(align(n), len(b)):]
	}
	return a
}

// attrsAfter returns the attributes after a fixed part of size n (the
// family's header), or none when the payload is shorter.
func attrsAfter(payload []byte, n int) attrs {
	if len(payload) < align(n) {
		return attrs{}
	}
	return parseAttrs(payload[align(n):])
}

// ifname reads a name attribute: its bytes up to the first NUL, ok false
// if it is longer than IFNAMSIZ-1 (Linux's policy for IFLA_IFNAME, whose
// violation is ERANGE).
func ifname(v []byte) (string, bool) {
	if i := indexByte(v, 0); i >= 0 {
		v = v[:i]
	}
	if len(v) >= ifNameSize {
		return "", false
	}
	return string(v), true
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
