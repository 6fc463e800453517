package multiboot

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestCmdlineArgs(t *testing.T) {
	tests := []struct {
		name   string
		line   string
		outLen int
		want   []string
	}{
		{"empty", "", 4, nil},
		{"only spaces", "  \t ", 4, nil},
		{"kernel path is kept", "/boot/valence.elf console=ttyS0 debug", 4, []string{"/boot/valence.elf", "console=ttyS0", "debug"}},
		{"runs of blanks", "\t a  \tb   c ", 4, []string{"a", "b", "c"}},
		{"NUL ends the line", "a b\x00c d", 4, []string{"a", "b"}},
		{"NUL right after blanks", "a \x00 b", 4, []string{"a"}},
		{"out too small", "a b c d e", 2, []string{"a", "b"}},
		{"no room at all", "a", 0, nil},
		{"other bytes are not separators", "a\nb=c,d", 4, []string{"a\nb=c,d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := make([][]byte, tt.outLen)
			n := CmdlineArgs([]byte(tt.line), out)
			var got []string
			for _, w := range out[:n] {
				got = append(got, string(w))
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("CmdlineArgs(%q) mismatch (-want +got):\n%s", tt.line, diff)
			}
		})
	}
}

// TestCmdlineArgsCapacity checks that a word cannot be appended into the
// bytes of the word after it.
func TestCmdlineArgsCapacity(t *testing.T) {
	line := []byte("ab cd")
	var out [2][]byte
	if n := CmdlineArgs(line, out[:]); n != 2 {
		t.Fatalf("got %d words, want 2", n)
	}
	_ = append(out[0], 'X')
	if diff := cmp.Diff("ab cd", string(line)); diff != "" {
		t.Errorf("append through a word changed the line (-want +got):\n%s", diff)
	}
}
