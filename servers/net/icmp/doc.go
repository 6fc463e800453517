// Package icmp encodes and decodes ICMP for IPv4 messages (RFC 792): the
// echo request and reply that ping uses, and the error messages the stack
// sends and understands (destination unreachable, time exceeded).
//
// Every message is type (1) | code (1) | checksum (2) | four bytes whose
// meaning depends on the type | data. The checksum covers the whole ICMP
// message (RFC 792, "Echo or Echo Reply Message"). For echo the four bytes
// are an identifier and a sequence number, and the data is returned
// verbatim. For errors they are unused (or carry the next-hop MTU,
// RFC 1191 section 4), and the data is the offending datagram's IP header
// plus at least its first 8 bytes (RFC 792; RFC 1812 section 4.3.2.3 allows
// more), which is how a receiver finds the socket the error belongs to.
//
// RFC 1122 section 3.2.2 lists when a host must not send an error: in reply
// to another ICMP error, to a broadcast or multicast destination, or to a
// non-initial fragment. The stack applies those rules; this package only
// encodes.
package icmp
