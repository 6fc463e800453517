package qemu

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestConsoleNormalises(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"nothing", nil, ""},
		{"plain", []string{"hello\n"}, "hello\n"},
		{"crlf", []string{"a\r\nb\r\n"}, "a\nb\n"},
		{"crlf split", []string{"a\r", "\nb"}, "a\nb"},
		{"crcrlf", []string{"a\r\r\nb"}, "a\nb"},
		{"crcrlf split", []string{"a\r", "\r", "\n"}, "a\n"},
		{"lone cr kept", []string{"50%\r75%\r100%\n"}, "50%\r75%\r100%\n"},
		{"lone cr split kept", []string{"50%\r", "75%"}, "50%\r75%"},
		{"trailing cr flushed", []string{"prompt\r"}, "prompt\r"},
		{"byte at a time", strings.Split("[ 0.000000] x\r\nvalence# ", ""), "[ 0.000000] x\nvalence# "},
		{"lf cr", []string{"a\n\rb"}, "a\n\rb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newConsole()
			for _, w := range tc.writes {
				if n, err := c.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", w, n, err)
				}
			}
			c.flush()
			if diff := cmp.Diff(tc.want, c.String()); diff != "" {
				t.Errorf("output mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConsoleSinceAndNotify(t *testing.T) {
	c := newConsole()
	c.Write([]byte("abc"))
	text, changed := c.since(1)
	if text != "bc" {
		t.Errorf("since(1) = %q, want %q", text, "bc")
	}
	if text, _ := c.since(10); text != "" {
		t.Errorf("since(10) = %q, want nothing", text)
	}
	select {
	case <-changed:
		t.Fatal("changed was closed before more output arrived")
	default:
	}
	c.Write([]byte("d"))
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("changed was not closed when output arrived")
	}
}

func TestConsoleHeldCR(t *testing.T) {
	c := newConsole()
	c.Write([]byte("ab\r"))
	tests := []struct {
		name  string
		write string // written before the reads
		off   int
		want  string
	}{
		{"held CR is visible", "", 0, "ab\r"},
		{"from the CR", "", 2, "\r"},
		{"past the CR", "", 3, ""},
		{"far past", "", 10, ""},
		{"CR collapses into the newline", "\ncd", 0, "ab\ncd"},
		{"offset past the CR is past the newline", "", 3, "cd"},
	}
	for _, tc := range tests {
		c.Write([]byte(tc.write))
		if got, _ := c.since(tc.off); got != tc.want {
			t.Errorf("%s: since(%d) = %q, want %q", tc.name, tc.off, got, tc.want)
		}
	}
}

// recorder records the chunks written to it and when.
type recorder struct {
	chunks []string
	times  []time.Time
	failAt int // fail the write with this index (1-based); 0 never fails
}

func (r *recorder) Write(p []byte) (int, error) {
	if len(r.chunks)+1 == r.failAt {
		return 0, errors.New("broken pipe")
	}
	r.chunks = append(r.chunks, string(p))
	r.times = append(r.times, time.Now())
	return len(p), nil
}

func TestSendSlowly(t *testing.T) {
	const pause = 2 * time.Millisecond
	tests := []struct {
		name string
		s    string
		want []string
	}{
		{"empty", "", nil},
		{"short", "uptime\r", []string{"uptime\r"}},
		{"exactly one chunk", "0123456789abcdef", []string{"0123456789abcdef"}},
		{"one over", "0123456789abcdefg", []string{"0123456789abcdef", "g"}},
		{
			"sentence",
			"echo hello from the console\r",
			[]string{"echo hello from ", "the console\r"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r recorder
			if err := sendSlowly(&r, tc.s, sendChunk, pause); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, r.chunks); diff != "" {
				t.Errorf("chunks mismatch (-want +got):\n%s", diff)
			}
			for i := 1; i < len(r.times); i++ {
				if gap := r.times[i].Sub(r.times[i-1]); gap < pause {
					t.Errorf("chunk %d came %v after the previous one, want at least %v", i, gap, pause)
				}
			}
		})
	}
	t.Run("error", func(t *testing.T) {
		r := recorder{failAt: 2}
		if err := sendSlowly(&r, strings.Repeat("x", 40), sendChunk, pause); err == nil {
			t.Error("sendSlowly ignored a write error")
		}
		if len(r.chunks) != 1 {
			t.Errorf("sendSlowly wrote %d chunks before the error, want 1", len(r.chunks))
		}
	})
}

func TestTail(t *testing.T) {
	long := strings.Repeat("x", 50) + "\n" + strings.Repeat("y", 20)
	tests := []struct {
		name    string
		s       string
		n       int
		want    string
		wantCut bool
	}{
		{"short", "abc", 10, "abc", false},
		{"exact", "abc", 3, "abc", false},
		{"no newline", "abcdef", 3, "def", true},
		{"line boundary near the start", "ab\ncdefghijkl\nmnopqrst", 20, "cdefghijkl\nmnopqrst", true},
		{"line boundary too far", long, 40, strings.Repeat("x", 19) + "\n" + strings.Repeat("y", 20), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, cut := tail(tc.s, tc.n)
			if got != tc.want || cut != tc.wantCut {
				t.Errorf("tail(%q, %d) = %q, %v; want %q, %v", tc.s, tc.n, got, cut, tc.want, tc.wantCut)
			}
		})
	}
}
