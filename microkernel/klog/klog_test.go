package klog

import "testing"

func TestLineFormatting(t *testing.T) {
	for _, tc := range []struct {
		build func(l *Line)
		want  string
	}{
		{func(l *Line) { l.S("mm: ").U(1023).S(" MiB") }, "mm: 1023 MiB"},
		{func(l *Line) { l.X(0xdeadbeef) }, "0xdeadbeef"},
		{func(l *Line) { l.X(0) }, "0x0"},
		{func(l *Line) { l.X16(0x1f) }, "000000000000001f"},
		{func(l *Line) { l.I(-42) }, "-42"},
		{func(l *Line) { l.Frac(12345, 1000, 2) }, "12.34"},
		{func(l *Line) { l.Frac(5, 1000, 3) }, "0.005"},
		{func(l *Line) { l.U(0) }, "0"},
	} {
		var l Line
		tc.build(&l)
		if got := string(l.buf[:l.n]); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func TestLineTruncatesInsteadOfOverflowing(t *testing.T) {
	var l Line
	for i := 0; i < 1000; i++ {
		l.S("abcdefgh")
	}
	if l.n != len(l.buf) {
		t.Fatalf("n = %d, want %d", l.n, len(l.buf))
	}
}

func TestLineAllocatesNothing(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		var l Line
		l.S("timer: ").U(1000).S(" Hz, tsc ").Frac(2893400000, 1e6, 1).S(" MHz ").X(0xffff800000000000)
		_ = l.n
	})
	if allocs != 0 {
		t.Fatalf("Line allocated %v times", allocs)
	}
}
