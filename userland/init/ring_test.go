package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/userland/init/control"
)

func TestRing(t *testing.T) {
	var r ring
	var want []string
	for i := 0; i < ringLines+10; i++ {
		r.add(fmt.Sprint(i))
		want = append(want, fmt.Sprint(i))
	}
	if diff := cmp.Diff(want[10:], r.all()); diff != "" {
		t.Errorf("the newest %d lines, oldest first (-want +got):\n%s", ringLines, diff)
	}
	r.add(strings.Repeat("x", 10*control.MaxLine))
	if got := r.all(); len(got[len(got)-1]) != control.MaxLine {
		t.Errorf("a long line kept %d bytes", len(got[len(got)-1]))
	}
}

func TestLogsBounded(t *testing.T) {
	l := newLogs()
	for i := 0; i < 2*maxRings; i++ {
		l.add(fmt.Sprint("svc", i), "line")
	}
	if len(l.rings) != maxRings {
		t.Errorf("%d rings, want at most %d", len(l.rings), maxRings)
	}
	if got := l.lines("svc0"); len(got) != 1 || !strings.HasSuffix(got[0], "] line") {
		t.Errorf("svc0's lines: %q", got)
	}
	if l.lines(fmt.Sprint("svc", 2*maxRings-1)) != nil {
		t.Errorf("a ring past the bound exists")
	}
}
