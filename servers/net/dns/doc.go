// Package dns is a stub resolver (RFC 1035, RFC 1123 section 6.1.3): it
// asks a recursive server for the IPv4 addresses of a name over UDP and
// remembers answers for their TTL.
//
// # Messages
//
// Message encodes queries and decodes responses in the format of RFC 1035
// section 4.1: a 12-byte header, then questions and resource records. Names
// are sequences of labels (at most 63 bytes each, 255 in all, section
// 2.3.4); in responses a name may end in a compression pointer to an
// earlier name (section 4.1.4). The decoder follows pointers only
// backwards and at most 64 times, so a hostile packet cannot make it loop,
// and bounds every count by the bytes actually present.
//
// # The resolver
//
// Resolver runs on the stack's event loop. Lookup sends a query for type A
// with a random 16-bit ID from a fresh random port (the defences of RFC 5452
// section 9.2 against forged answers), and accepts a response only from the
// server it asked, to that port, with that ID and the same question. It
// retries each server after Timeout, Attempts times, moving through the
// server list. Answers, including CNAME chains inside one response
// (RFC 1034 section 3.6.2), are cached for the smallest TTL in the chain;
// a name that does not exist (RCODE 3) is reported as ErrNotFound and is
// cached as RFC 2308 section 5 allows, for the SOA minimum if given, else
// briefly. A truncated response is an error: there is no TCP fallback.
// Lookup's callback runs on the loop; LookupSync wraps it for goroutines
// outside the loop.
package dns
