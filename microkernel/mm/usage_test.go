package mm

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestUsage checks the sums RLIMIT_AS and RLIMIT_DATA are enforced with:
// every mapping counts towards Total, private writable ones towards Data
// except in the skipped range (the stack), memory objects never towards
// Data or Private, and only the part inside the asked range counts.
func TestUsage(t *testing.T) {
	l := newTestLayout(64)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(l.mapRegion(pg(0), pg(4), tRW, 0))   // data
	must(l.mapRegion(pg(4), pg(6), 0, 0))     // PROT_NONE reservation
	must(l.mapRegion(pg(8), pg(10), tRX, 0))  // text
	must(l.mapRegion(pg(20), pg(28), tRW, 0)) // the "stack": pages 24-27 skipped
	if _, err := l.mapShared(40, objFrames(1, 3), tRW, tRW); err != nil {
		t.Fatal(err)
	}
	P := uint64(PageSize)
	for _, c := range []struct {
		name       string
		start, end uint64
		want       VMUsage
	}{
		{"everything", pg(0), pg(64), VMUsage{Total: 19 * P, Data: 8 * P, Private: 12 * P}},
		{"inside the data", pg(1), pg(3), VMUsage{Total: 2 * P, Data: 2 * P, Private: 2 * P}},
		{"across data and reservation", pg(3), pg(5), VMUsage{Total: 2 * P, Data: P, Private: 2 * P}},
		{"a hole", pg(11), pg(19), VMUsage{}},
		{"the stack's edge", pg(23), pg(25), VMUsage{Total: 2 * P, Data: P, Private: P}},
		{"the object", pg(39), pg(44), VMUsage{Total: 3 * P}},
	} {
		if got := l.usage(c.start, c.end, pg(24), pg(28)); got != c.want {
			t.Errorf("%s: %s", c.name, cmp.Diff(c.want, got))
		}
	}
}
