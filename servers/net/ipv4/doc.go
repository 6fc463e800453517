// Package ipv4 encodes and decodes IPv4 headers (RFC 791 section 3.1) and
// reassembles fragmented datagrams (RFC 791 section 3.2, RFC 815).
//
// # Header
//
// Parse checks everything a receiver must check before trusting a header:
// version 4, a header length of at least 20 bytes that fits in the packet, a
// total length that covers the header and fits in what arrived (bytes after
// it are link padding and are cut off), a correct header checksum
// (RFC 1071), and option fields whose lengths stay inside the header. Options
// themselves are not interpreted; RFC 1122 section 3.2.1.8 lets a host ignore
// the ones it does not implement.
//
// # Reassembly
//
// A Reassembler collects fragments keyed by (source, destination, protocol,
// identification). It holds them as a list sorted by offset and accepts a
// fragment only if it does not overlap one already held; an overlap, a
// datagram that would exceed 65535 bytes, or fragments that disagree about
// where the datagram ends discard the whole datagram, since overlapping
// fragments are a known way to slip data past filters and no legitimate
// sender produces them. Limits keep a flood of fragments from exhausting
// memory: at most MaxDatagrams datagrams and MaxBytes of payload are held at
// once (beyond that new fragments are refused), and an incomplete datagram
// is discarded after Timeout (RFC 791 suggests 15 seconds as a lower bound
// for the reassembly timer; we use 30 as Linux does).
package ipv4
