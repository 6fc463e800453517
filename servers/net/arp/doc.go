// Package arp implements the Address Resolution Protocol of RFC 826 for IPv4
// over Ethernet: the packet format and the neighbour cache that maps IPv4
// addresses to MAC addresses.
//
// # Packets
//
// Only the Ethernet/IPv4 form is accepted (hardware type 1, protocol type
// 0x0800, lengths 6 and 4); anything else is malformed for this stack and is
// dropped by the caller.
//
// # The cache
//
// Cache is pure data driven by the stack's event loop: every method takes
// the current time, and the cache never sends anything itself. It returns
// what the caller must do instead (send a request, transmit packets that
// were waiting, drop packets whose resolution failed).
//
// An entry is either incomplete (a request is outstanding and outgoing
// packets wait in a bounded queue) or resolved (a MAC is known until the
// entry expires). Incomplete entries are retried every RetryInterval up to
// MaxRetries times (RFC 1122 section 2.3.2.1 asks for such a rate limit),
// after which the queued packets are dropped. Resolved entries live for
// Lifetime and are then forgotten, so a moved address is re-resolved.
//
// Updates follow the merge rule of RFC 826 ("Packet Reception"): any ARP
// packet whose sender is already cached refreshes that entry, and a new
// entry is created only when the packet was aimed at us. That is also how
// gratuitous ARP (RFC 5227 section 3 announcements, sender equal to
// target) from a host that changed its MAC updates our cache; the stack
// sends its own announcement whenever its address is configured.
//
// The table is bounded (MaxEntries); when full, the oldest resolved entry is
// evicted, and if every entry is incomplete the new request is refused.
package arp
