package clock

import (
	"testing"
	"time"

	"valence.dev/microkernel/arch/amd64"
)

func TestDaysFromCivil(t *testing.T) {
	for _, tc := range []struct{ y, m, d int }{
		{1970, 1, 1}, {2000, 2, 29}, {2026, 11, 27}, {1969, 12, 31}, {2100, 3, 1}, {1600, 1, 1},
	} {
		want := time.Date(tc.y, time.Month(tc.m), tc.d, 0, 0, 0, 0, time.UTC).Unix() / 86400
		if got := DaysFromCivil(tc.y, tc.m, tc.d); got != want {
			t.Errorf("DaysFromCivil(%d-%02d-%02d) = %d, want %d", tc.y, tc.m, tc.d, got, want)
		}
	}
}

func TestRTCToUnixNanos(t *testing.T) {
	rtc := amd64.RTCTime{Year: 2026, Month: 11, Day: 27, Hour: 10, Minute: 31, Second: 7}
	want := time.Date(2026, 11, 27, 10, 31, 7, 0, time.UTC).UnixNano()
	if got := RTCToUnixNanos(rtc); got != want {
		t.Errorf("RTCToUnixNanos = %d, want %d", got, want)
	}
}

func TestTSCToNanos(t *testing.T) {
	Init(0, 2_500_000_000)
	for _, tc := range []struct {
		ticks uint64
		want  int64
	}{{0, 0}, {2_500_000_000, 1e9}, {25, 10}, {1 << 62, (1 << 62) / 5 * 2}} {
		got := TSCToNanos(tc.ticks)
		if d := got - tc.want; d < -1 || d > 1 {
			t.Errorf("TSCToNanos(%d) = %d, want %d", tc.ticks, got, tc.want)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []uint64
		want uint64
	}{{nil, 0}, {[]uint64{5}, 5}, {[]uint64{9, 1, 5}, 5}, {[]uint64{3, 3, 100, 2, 3, 4, 1}, 3}} {
		if got := Median(append([]uint64(nil), tc.in...)); got != tc.want {
			t.Errorf("Median(%v) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
