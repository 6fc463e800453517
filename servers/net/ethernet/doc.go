// Package ethernet encodes and decodes Ethernet II frame headers (IEEE 802.3
// clause 3.2 with the DIX type interpretation of the length/type field).
//
// A frame on the wire, as the link layer hands it to the stack, is
//
//	destination MAC (6) | source MAC (6) | EtherType (2) | payload
//
// without preamble or frame check sequence: taps and NICs strip and verify
// those. EtherType values below 0x0600 are 802.3 lengths, not types; the stack
// does not speak LLC, so Parse reports such frames as errors for the caller
// to drop and count. VLAN tags (0x8100) are likewise not understood and are
// delivered as an unknown EtherType.
//
// Minimum frame size (60 bytes before the FCS) is the sender's business:
// Encode's callers pad short frames with PadTo, and a receiver accepts runts
// as long as the header is complete, because taps deliver them unpadded.
package ethernet
