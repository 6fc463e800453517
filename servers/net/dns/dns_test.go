package dns

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"valence.dev/servers/net/link"
	"valence.dev/servers/net/sim"
	"valence.dev/servers/net/socket"
	"valence.dev/servers/net/stack"
)

func TestMessageRoundTrip(t *testing.T) {
	m := &Message{ID: 7, Response: true, RecursionDesired: true, RecursionAvailable: true,
		Questions: []Question{{Name: "www.example.com", Type: TypeA, Class: ClassIN}},
		Answers: []Record{
			{Name: "www.example.com", Type: TypeCNAME, Class: ClassIN, TTL: 60, Target: "example.com"},
			{Name: "example.com", Type: TypeA, Class: ClassIN, TTL: 30, Data: []byte{192, 0, 2, 1}},
		}}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m, got, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Data" }, cmp.Ignore())); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestParseCompressionAndAttacks(t *testing.T) {
	// Header, one question "a.b" at offset 12, and an answer whose name is
	// a pointer to it.
	base := []byte{0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
		1, 'a', 1, 'b', 0, 0, 1, 0, 1,
		0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 9, 0, 4, 10, 0, 0, 1}
	m, err := Parse(base)
	if err != nil || m.Answers[0].Name != "a.b" {
		t.Fatalf("compressed name: %v %+v", err, m)
	}
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"short header", base[:11], ErrShort},
		{"pointer loop", []byte{0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12}, ErrPointer},
		{"forward pointer", []byte{0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 20, 0, 0}, ErrPointer},
		{"label past end", []byte{0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 9, 'a'}, ErrShort},
		{"reserved label type", []byte{0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0x40, 0}, ErrName},
		{"counts lie", append(append([]byte(nil), base[:7]...), 9, 0, 0, 0, 0), ErrShort},
	}
	for _, tc := range tests {
		if _, err := Parse(tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

// fakeServer answers A queries on B's port 53 from a table.
type fakeServer struct {
	zone    map[string][]Record
	queries int
	ignore  int // drop this many queries first
	rcode   int
}

func (f *fakeServer) run(t *testing.T, s *stack.Stack) {
	u, err := s.ListenUDP(53)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	u.SetNotify(func(socket.Events) {
		for {
			n, from, err := u.RecvFrom(buf)
			if err != nil {
				return
			}
			q, err := Parse(buf[:n])
			if err != nil {
				continue
			}
			f.queries++
			if f.ignore > 0 {
				f.ignore--
				continue
			}
			resp := &Message{ID: q.ID, Response: true, Questions: q.Questions, Rcode: f.rcode}
			recs, ok := f.zone[q.Questions[0].Name]
			if !ok && f.rcode == 0 {
				resp.Rcode = RcodeNXDomain
				resp.Authority = []Record{{Name: "test", Type: TypeSOA, Class: ClassIN, TTL: 60,
					Data: []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10}}}
			}
			resp.Answers = recs
			b, _ := resp.Marshal()
			u.SendTo(b, from)
		}
	})
}

func TestResolver(t *testing.T) {
	a := func(name string, ip string, ttl uint32) Record {
		return Record{Name: name, Type: TypeA, Class: ClassIN, TTL: ttl, Data: netip.MustParseAddr(ip).AsSlice()}
	}
	zone := map[string][]Record{
		"host.test":  {a("host.test", "192.0.2.1", 300), a("host.test", "192.0.2.2", 300)},
		"alias.test": {{Name: "alias.test", Type: TypeCNAME, Class: ClassIN, TTL: 100, Target: "host.test"}, a("host.test", "192.0.2.1", 300)},
	}
	tests := []struct {
		name      string
		lookup    string
		ignore    int
		rcode     int
		loss      float64
		wantAddrs []string
		wantErr   error
	}{
		{"two addresses", "host.test", 0, 0, 0, []string{"192.0.2.1", "192.0.2.2"}, nil},
		{"cname", "ALIAS.test.", 0, 0, 0, []string{"192.0.2.1"}, nil},
		{"nxdomain", "nope.test", 0, 0, 0, nil, ErrNotFound},
		{"first query lost", "host.test", 1, 0, 0, []string{"192.0.2.1", "192.0.2.2"}, nil},
		{"server dead", "host.test", 100, 0, 0, nil, ErrTimeout},
		{"servfail", "host.test", 0, RcodeServFail, 0, nil, ErrTimeout},
		{"literal", "198.51.100.4", 0, 0, 0, []string{"198.51.100.4"}, nil},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := sim.New(sim.Options{Seed: int64(i), Faults: link.Faults{Delay: time.Millisecond, Loss: tc.loss}})
			srv := &fakeServer{zone: zone, ignore: tc.ignore, rcode: tc.rcode}
			srv.run(t, n.B)
			r := NewResolver(n.A, []netip.Addr{sim.AddrB}, Config{})
			var got []netip.Addr
			var err error
			done := false
			r.Lookup(tc.lookup, func(a []netip.Addr, e error) { got, err, done = a, e, true })
			n.RunUntil(func() bool { return done }, time.Minute)
			if !done {
				t.Fatal("no answer")
			}
			var want []netip.Addr
			for _, s := range tc.wantAddrs {
				want = append(want, netip.MustParseAddr(s))
			}
			if !errors.Is(err, tc.wantErr) || !cmp.Equal(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })) {
				t.Errorf("got %v, %v; want %v, %v", got, err, want, tc.wantErr)
			}
		})
	}
}

func TestResolverCache(t *testing.T) {
	n := sim.New(sim.Options{Seed: 9})
	srv := &fakeServer{zone: map[string][]Record{"c.test": {{Name: "c.test", Type: TypeA, Class: ClassIN, TTL: 10, Data: []byte{192, 0, 2, 9}}}}}
	srv.run(t, n.B)
	r := NewResolver(n.A, []netip.Addr{sim.AddrB}, Config{})
	look := func() {
		done := false
		r.Lookup("c.test", func([]netip.Addr, error) { done = true })
		n.RunUntil(func() bool { return done }, time.Minute)
	}
	look()
	look()
	if srv.queries != 1 {
		t.Errorf("%d queries for a cached name, want 1", srv.queries)
	}
	n.RunFor(11 * time.Second)
	look()
	if srv.queries != 2 {
		t.Errorf("%d queries after TTL, want 2", srv.queries)
	}
}

func FuzzParse(f *testing.F) {
	m := &Message{ID: 1, Questions: []Question{{Name: "a.example", Type: TypeA, Class: ClassIN}},
		Answers: []Record{{Name: "a.example", Type: TypeA, Class: ClassIN, Data: []byte{1, 2, 3, 4}}}}
	b, _ := m.Marshal()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		for _, q := range m.Questions {
			if len(q.Name) > 255 {
				t.Fatalf("name of %d bytes", len(q.Name))
			}
		}
	})
}
