package tcp

import (
	"bytes"
	"math/rand"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRingWrap(t *testing.T) {
	r := newRing(8)
	r.Append([]byte("abcdef"))
	out := make([]byte, 4)
	r.Read(out)
	if n := r.Append([]byte("ghijklmn")); n != 6 {
		t.Fatalf("Append = %d, want 6", n)
	}
	a, b := r.Peek(0, r.Len())
	if got := string(a) + string(b); got != "efghijkl" {
		t.Errorf("contents = %q", got)
	}
}

func TestRecvBufferReorder(t *testing.T) {
	rnd := rand.New(rand.NewSource(3))
	data := make([]byte, 5000)
	rnd.Read(data)
	for trial := 0; trial < 50; trial++ {
		b := newRecvBuffer(1 << 13)
		type piece struct{ off, n int }
		var pieces []piece
		for off := 0; off < len(data); {
			n := min(1+rnd.Intn(700), len(data)-off)
			pieces = append(pieces, piece{off, n})
			off += n
		}
		// Shuffle and add some duplicates and overlaps.
		rnd.Shuffle(len(pieces), func(i, j int) { pieces[i], pieces[j] = pieces[j], pieces[i] })
		pieces = append(pieces, pieces[:len(pieces)/3]...)
		delivered := 0
		for _, p := range pieces {
			off := p.off - delivered
			d := data[p.off : p.off+p.n]
			if off < 0 { // already delivered in part: trim as the caller would
				if -off >= len(d) {
					continue
				}
				d, off = d[-off:], 0
			}
			delivered += b.Insert(off, d)
		}
		if delivered != len(data) || b.OutOfOrder() {
			t.Fatalf("delivered %d of %d, spans %v", delivered, len(data), b.spans)
		}
		got := make([]byte, len(data))
		b.Read(got)
		if !bytes.Equal(got, data) {
			t.Fatal("data differs")
		}
	}
}

func TestAddSpan(t *testing.T) {
	tests := []struct {
		have []span
		add  span
		want []span
	}{
		{nil, span{5, 6}, []span{{5, 6}}},
		{[]span{{5, 6}}, span{1, 2}, []span{{1, 2}, {5, 6}}},
		{[]span{{1, 2}, {5, 6}}, span{2, 5}, []span{{1, 6}}},
		{[]span{{1, 2}, {5, 6}}, span{8, 9}, []span{{1, 2}, {5, 6}, {8, 9}}},
		{[]span{{1, 4}}, span{2, 3}, []span{{1, 4}}},
	}
	for _, tc := range tests {
		b := recvBuffer{spans: append([]span(nil), tc.have...)}
		b.addSpan(tc.add)
		if diff := cmp.Diff(tc.want, b.spans, cmp.AllowUnexported(span{})); diff != "" {
			t.Errorf("%v + %v (-want +got):\n%s", tc.have, tc.add, diff)
		}
	}
}
