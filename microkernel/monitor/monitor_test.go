package monitor

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func feeder(input string) func(p []byte) int {
	data := []byte(input)
	return func(p []byte) int {
		if len(data) == 0 {
			panic("input exhausted")
		}
		n := copy(p[:1], data) // one byte at a time, as a UART delivers
		data = data[n:]
		return n
	}
}

func TestReadLine(t *testing.T) {
	for _, tc := range []struct {
		input string
		want  []string
		echo  string
	}{
		{"ls\r", []string{"ls"}, "ls\n"},
		{"ab\x7fc\r", []string{"ac"}, "ab\b \bc\n"},
		{"one\r\ntwo\n", []string{"one", "two"}, "one\ntwo\n"},
		{"xx\x15y\r", []string{"y"}, "xx\b \b\b \by\n"},
		{"\x01\x1bz\r", []string{"z"}, "z\n"},
	} {
		var out bytes.Buffer
		r := lineReader{in: feeder(tc.input), out: &out}
		var got []string
		for range tc.want {
			l, ok := r.readLine()
			if !ok {
				t.Fatalf("%q: line cancelled", tc.input)
			}
			got = append(got, l)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%q: lines (-want +got):\n%s", tc.input, diff)
		}
		if out.String() != tc.echo {
			t.Errorf("%q: echo %q, want %q", tc.input, out.String(), tc.echo)
		}
	}
}

func TestUptime(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{3 * time.Second, "up 00:00:03"},
		{26*time.Hour + 61*time.Second, "up 1 days, 02:01:01"},
	} {
		if got := Uptime(tc.d); got != tc.want {
			t.Errorf("Uptime(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
