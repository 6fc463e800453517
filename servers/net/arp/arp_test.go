package arp

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"valence.dev/servers/net/ethernet"
)

func TestPacketRoundTrip(t *testing.T) {
	p := Packet{Op: OpReply, SenderMAC: ethernet.Address{2, 0, 0, 0, 0, 1}, SenderIP: [4]byte{10, 0, 0, 1},
		TargetMAC: ethernet.Address{2, 0, 0, 0, 0, 2}, TargetIP: [4]byte{10, 0, 0, 2}}
	b := make([]byte, PacketLen+18)
	p.Encode(b)
	got, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestParseRejects(t *testing.T) {
	good := make([]byte, PacketLen)
	Packet{Op: OpRequest}.Encode(good)
	mutate := func(i int, v byte) []byte {
		b := append([]byte(nil), good...)
		b[i] = v
		return b
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"short", good[:27]},
		{"htype", mutate(1, 6)},
		{"ptype", mutate(2, 0x86)},
		{"hlen", mutate(4, 8)},
		{"plen", mutate(5, 16)},
		{"op", mutate(7, 9)},
	}
	for _, tc := range tests {
		if _, err := Parse(tc.b); err == nil {
			t.Errorf("%s: Parse succeeded", tc.name)
		}
	}
}

var (
	ipA  = netip.AddrFrom4([4]byte{10, 0, 0, 1})
	ipB  = netip.AddrFrom4([4]byte{10, 0, 0, 2})
	macA = ethernet.Address{2, 0, 0, 0, 0, 1}
)

func TestCacheResolve(t *testing.T) {
	c := NewCache(Config{MaxPending: 2})
	send, dropped := c.Enqueue(ipA, []byte("1"), 0)
	if !send || dropped != 0 {
		t.Fatalf("first Enqueue = %v, %d; want true, 0", send, dropped)
	}
	if send, _ := c.Enqueue(ipA, []byte("2"), 0); send {
		t.Error("second Enqueue asked for another request")
	}
	if _, dropped := c.Enqueue(ipA, []byte("3"), 0); dropped != 1 {
		t.Errorf("overflow dropped %d, want 1", dropped)
	}
	got := c.Update(ipA, macA, false, time.Second/2)
	if diff := cmp.Diff([][]byte{[]byte("2"), []byte("3")}, got); diff != "" {
		t.Errorf("pending (-want +got):\n%s", diff)
	}
	if mac, ok := c.Lookup(ipA, time.Second); !ok || mac != macA {
		t.Errorf("Lookup = %v, %v", mac, ok)
	}
	if _, ok := c.Lookup(ipA, time.Second/2+DefaultConfig.Lifetime); ok {
		t.Error("entry did not expire")
	}
}

func TestCacheMergeRule(t *testing.T) {
	c := NewCache(Config{})
	if c.Update(ipB, macA, false, 0); c.Len() != 0 {
		t.Error("Update without create added an entry")
	}
	c.Update(ipB, macA, true, 0)
	newMAC := ethernet.Address{2, 0, 0, 0, 0, 9}
	c.Update(ipB, newMAC, false, 1) // gratuitous ARP from a moved host
	if mac, _ := c.Lookup(ipB, 2); mac != newMAC {
		t.Errorf("after gratuitous ARP mac = %v, want %v", mac, newMAC)
	}
}

func TestCacheRetriesAndFailure(t *testing.T) {
	c := NewCache(Config{RetryInterval: time.Second, MaxRetries: 3})
	c.Enqueue(ipA, []byte("x"), 0)
	type step struct {
		Retry  []netip.Addr
		Failed int
	}
	var got []step
	for now := time.Second; now <= 4*time.Second; now += time.Second {
		r, f := c.Expire(now)
		got = append(got, step{r, len(f)})
	}
	want := []step{{[]netip.Addr{ipA}, 0}, {[]netip.Addr{ipA}, 0}, {nil, 1}, {nil, 0}}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("retries (-want +got):\n%s", diff)
	}
	if c.Len() != 0 {
		t.Errorf("Len = %d after failure", c.Len())
	}
}

func TestCacheBounded(t *testing.T) {
	c := NewCache(Config{MaxEntries: 2})
	c.Update(ipA, macA, true, 0)
	c.Update(ipB, macA, true, 1)
	ipC := netip.AddrFrom4([4]byte{10, 0, 0, 3})
	c.Update(ipC, macA, true, 2)
	if c.Len() != 2 {
		t.Fatalf("Len = %d, want 2", c.Len())
	}
	if _, ok := c.Lookup(ipA, 3); ok {
		t.Error("oldest entry was not evicted")
	}
}

func FuzzParse(f *testing.F) {
	b := make([]byte, PacketLen)
	Packet{Op: OpRequest}.Encode(b)
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		out := make([]byte, PacketLen)
		p.Encode(out)
		if string(out) != string(b[:PacketLen]) {
			t.Fatal("re-encode differs")
		}
	})
}
