package stack

import "valence.dev/servers/net/tcp"

// Stats counts what the stack did, layer by layer. Every dropped frame or
// packet is counted under the reason it was dropped.
type Stats struct {
	Link     LinkStats
	Ethernet EthernetStats
	ARP      ARPStats
	IPv4     IPv4Stats
	ICMP     ICMPStats
	UDP      UDPStats
	TCP      TCPStats
	Raw      RawStats
}

// LinkStats counts frames through the link endpoint.
type LinkStats struct {
	FramesIn, FramesOut, WriteErrors uint64
	BytesIn, BytesOut                uint64 // frames' bytes, Ethernet header included
}

// EthernetStats counts Ethernet-level drops.
type EthernetStats struct {
	Malformed   uint64 // short, or an 802.3 length instead of a type
	NotForUs    uint64 // unicast to another MAC
	UnknownType uint64
}

// ARPStats counts ARP traffic and resolution.
type ARPStats struct {
	Malformed               uint64
	RequestsIn, RepliesIn   uint64
	RequestsOut, RepliesOut uint64
	Announcements           uint64 // gratuitous ARP sent
	QueueDrops              uint64 // packets dropped from a full pending queue
	Failures                uint64 // packets dropped when resolution gave up
}

// IPv4Stats counts IPv4 traffic and drops.
type IPv4Stats struct {
	PacketsIn, PacketsOut uint64
	Malformed             uint64 // short, wrong version, bad lengths
	BadChecksum           uint64
	BadOptions            uint64
	NotForUs              uint64
	UnknownProtocol       uint64
	NoRoute               uint64
	FragmentsIn           uint64
	Reassembled           uint64
	FragmentDrops         uint64 // overlap, bad shape, limits
	ReassemblyTimeouts    uint64
	FragmentsOut          uint64
	Fragmented            uint64 // datagrams sent in fragments
	Local                 uint64 // datagrams sent to our own addresses (loopback)
	LocalBytes            uint64 // their bytes, IP header included
	Delivered             uint64 // datagrams handed to a protocol (after reassembly)
	BytesIn, BytesOut     uint64 // of the packets counted in PacketsIn and sent (each fragment), headers included
}

// ICMPStats counts ICMP traffic.
type ICMPStats struct {
	In, Out       uint64
	Malformed     uint64
	BadChecksum   uint64
	EchoRequests  uint64
	EchoReplies   uint64
	Unreachables  uint64 // received
	ErrorsLimited uint64 // errors not sent because of the rate limit
	// InTypes counts the messages received with a good checksum by
	// type, OutTypes those sent (by the stack, or by raw sockets) by
	// type: Linux's IcmpMsg counters.
	InTypes, OutTypes [256]uint64
}

// UDPStats counts UDP traffic and drops.
type UDPStats struct {
	In, Out     uint64
	Malformed   uint64
	BadChecksum uint64
	NoPort      uint64
	QueueFull   uint64
	Delivered   uint64 // datagrams queued on a socket
}

// TCPStats adds the stack's own TCP drops to the connections' counters.
type TCPStats struct {
	tcp.Stats
	Malformed    uint64
	BadChecksum  uint64
	NoConnection uint64 // segments answered with a reset
}

// RawStats counts raw sockets' traffic (raw.go).
type RawStats struct {
	Delivered uint64 // copies queued on raw sockets
	QueueFull uint64 // copies dropped: the socket's queue was full
	Out       uint64 // datagrams sent by raw sockets
}
