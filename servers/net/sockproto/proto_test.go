package sockproto

import (
	"reflect"
	"strings"
	"testing"

	"valence.dev/ipc"
	"valence.dev/ipc/codec"
)

// TestLimitsFit checks that the largest requests and replies the limits
// allow fit in one message.
func TestLimitsFit(t *testing.T) {
	ip6 := make([]byte, 16)
	ready := make([]Ready, MaxReady)
	conns := make([]Conn, MaxConns)
	for i := range conns {
		conns[i] = Conn{Type: 1, Local: Addr{Family: AF_INET6, Port: 65535, IP: ip6}, Peer: Addr{Family: AF_INET6, Port: 65535, IP: ip6}, State: "ESTABLISHED",
			Sock: ^uint32(0), Protocol: ^uint16(0), TCPState: ^uint8(0), TxQueue: ^uint32(0), RxQueue: ^uint32(0), Drops: ^uint32(0),
			RTO: ^uint32(0), CWnd: ^uint32(0), SSThresh: -1 << 31}
	}
	max64 := ^uint64(0)
	msgs := make([]ICMPMsg, MaxICMPMsg)
	for i := range msgs {
		msgs[i] = ICMPMsg{Type: 255, In: max64, Out: max64}
	}
	snmp := SNMP{DefaultTTL: 255, ICMPMsg: msgs}
	fillMax(&snmp)
	ifaces := make([]Interface, MaxIfaces)
	for i := range ifaces {
		ifaces[i] = Interface{Name: strings.Repeat("i", 15), MAC: make([]byte, 6), Addrs: []Prefix{{Addr: Addr{Family: AF_INET6, IP: ip6}, Bits: 64}, {Addr: Addr{Family: AF_INET, IP: ip6[:4]}, Bits: 24}},
			MTU: ^uint32(0), Flags: ^uint32(0), RxPkts: max64, TxPkts: max64, RxBytes: max64, TxBytes: max64, RxErrs: max64, TxErrs: max64}
	}
	dns := make([]Addr, MaxDNS)
	for i := range dns {
		dns[i] = Addr{Family: AF_INET6, Port: 53, IP: ip6}
	}
	cases := map[string]any{
		"send request": &SendRequest{Sock: ^uint32(0), Flags: ^uint32(0), To: Addr{Family: AF_INET6, Port: 1, IP: ip6}, Data: make([]byte, MaxInline)},
		"recv reply":   &RecvReply{N: MaxInline, Full: ^uint32(0), Data: make([]byte, MaxInline), From: Addr{Family: AF_INET6, IP: ip6}},
		"wait reply":   &WaitReply{Seq: ^uint64(0), Ready: ready},
		"opt request":  &OptRequest{Sock: 1, Level: 1, Name: 1, Value: make([]byte, MaxOptLen)},
		"status reply": &StatusReply{Conns: conns, Interfaces: ifaces, DNS: dns, Gateway: Addr{Family: AF_INET6, IP: ip6}, More: true, SNMP: snmp},
	}
	for name, v := range cases {
		var m ipc.Message
		if err := codec.Marshal(v, &m); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// fillMax sets every uint64 counter reachable in v (a pointer to a
// struct) to its largest value, so that a varint encoding would show its
// worst size too.
func fillMax(v any) {
	var walk func(r reflect.Value)
	walk = func(r reflect.Value) {
		switch r.Kind() {
		case reflect.Struct:
			for i := range r.NumField() {
				walk(r.Field(i))
			}
		case reflect.Uint64, reflect.Uint32:
			r.SetUint(^uint64(0) >> (64 - r.Type().Bits()))
		}
	}
	walk(reflect.ValueOf(v).Elem())
}

func TestProtocol(t *testing.T) {
	ms := Protocol.Methods()
	if len(ms) != 17 {
		t.Errorf("%d methods, want 17", len(ms))
	}
	for i, m := range ms {
		if m.Label != uint64(i+1) {
			t.Errorf("method %s has label %d, want %d", m.Name, m.Label, i+1)
		}
	}
}
