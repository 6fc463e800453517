// Package checksum computes the Internet checksum of RFC 1071, the ones'
// complement sum used by IPv4, ICMP, UDP and TCP.
//
// The sum is built in two steps so that a caller can fold in several pieces
// (a pseudo-header, a header, a payload that lives in another buffer) without
// copying them together: Add accumulates 16-bit words into a 32-bit running
// sum, and Finish folds the carries back in and complements the result.
//
// Pieces may have odd lengths. RFC 1071 section 2(A) pads the last odd byte
// with a zero on the right; when a later piece follows an odd one, its bytes
// sit one position over, which Sum tracks with its odd flag so that callers
// can split data anywhere.
//
// A receiver verifies a packet by summing everything, checksum field
// included: the folded sum is 0xffff (Finish returns 0) when the data is
// intact (RFC 1071 section 1).
package checksum
