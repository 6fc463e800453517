// Package udp encodes and decodes UDP headers (RFC 768).
//
// The header is source port | destination port | length | checksum, eight
// bytes. The length counts header and data and must agree with what IP
// delivered (RFC 1122 section 4.1.3.4 says to drop datagrams whose length
// field is inconsistent). The checksum covers the IPv4 pseudo-header, the
// header and the data; a transmitted checksum of zero means "none", so a
// computed zero is sent as 0xffff (RFC 768, "Fields").
//
// Sockets, port binding and delivery are the stack's business; this package
// is only the wire format.
package udp
