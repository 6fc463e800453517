package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// edit applies the keys of in to a new line with history hist and returns
// the line, the cursor and the last action.
func edit(hist []string, in string) (string, int, editAction) {
	b := newLineBuffer(hist)
	act := editContinue
	for _, k := range decodeAll(in) {
		act = b.apply(k)
	}
	return string(b.line), b.pos, act
}

func TestLineEditing(t *testing.T) {
	hist := []string{"first", "second"}
	type result struct {
		Line   string
		Pos    int
		Action editAction
	}
	tests := []struct {
		name string
		in   string
		want result
	}{
		{"type", "echo", result{"echo", 4, editContinue}},
		{"accept", "ls\r", result{"ls", 2, editAccept}},
		{"left insert", "ac\x1b[Db", result{"abc", 2, editContinue}},
		{"right past end rings", "a\x1b[C", result{"a", 1, editBell}},
		{"left past start rings", "\x1b[D", result{"", 0, editBell}},
		{"backspace", "abc\x7f", result{"ab", 2, editContinue}},
		{"backspace at start rings", "\x7f", result{"", 0, editBell}},
		{"delete under cursor", "abc\x01\x1b[3~", result{"bc", 0, editContinue}},
		{"ctrl-a inserts at start", "bc\x01a", result{"abc", 1, editContinue}},
		{"ctrl-e", "bc\x01\x05d", result{"bcd", 3, editContinue}},
		{"ctrl-u kills to start", "abc def\x1b[D\x1b[D\x15", result{"ef", 0, editContinue}},
		{"ctrl-k kills to end", "abc def\x01\x1b[C\x0b", result{"a", 1, editContinue}},
		{"ctrl-w kills a word", "echo foo bar  \x17", result{"echo foo ", 9, editContinue}},
		{"ctrl-w twice", "echo foo bar\x17\x17", result{"echo ", 5, editContinue}},
		{"word moves", "one two three\x1bb\x1bbX\x1bfY", result{"one XtwoY three", 9, editContinue}},
		{"ctrl-d deletes", "ab\x01\x04", result{"b", 0, editContinue}},
		{"ctrl-d on empty is eof", "\x04", result{"", 0, editEOF}},
		{"ctrl-c interrupts", "abc\x03", result{"abc", 3, editInterrupt}},
		{"history up", "\x1b[A", result{"second", 6, editContinue}},
		{"history up up", "\x1b[A\x1b[A", result{"first", 5, editContinue}},
		{"history past oldest rings", "\x1b[A\x1b[A\x1b[A", result{"first", 5, editBell}},
		{"history down returns to typed line", "typed\x1b[A\x1b[A\x1b[B\x1b[B", result{"typed", 5, editContinue}},
		{"history down at newest rings", "x\x1b[B", result{"x", 1, editBell}},
		{"edit a history entry", "\x10\x7fX\r", result{"seconX", 6, editAccept}},
		{"utf8", "é€\x1b[Dx", result{"éx€", 2, editContinue}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			line, pos, act := edit(hist, tc.in)
			if diff := cmp.Diff(tc.want, result{line, pos, act}); diff != "" {
				t.Errorf("edit(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestLineLimit(t *testing.T) {
	b := newLineBuffer(nil)
	for range maxEditLine {
		if b.apply(key{kind: keyRune, r: 'x'}) != editContinue {
			t.Fatal("insert below the limit failed")
		}
	}
	if got := b.apply(key{kind: keyRune, r: 'x'}); got != editBell {
		t.Errorf("insert past the limit = %v, want bell", got)
	}
	if len(b.line) != maxEditLine {
		t.Errorf("line length %d, want %d", len(b.line), maxEditLine)
	}
}

func TestRender(t *testing.T) {
	tests := []struct {
		name   string
		prompt string
		line   string
		pos    int
		cols   int
		want   string
	}{
		{"empty", "$ ", "", 0, 80, "\r$ \x1b[K\r\x1b[2C"},
		{"cursor mid line", "$ ", "echo", 2, 80, "\r$ echo\x1b[K\r\x1b[4C"},
		{"no prompt at column 0", "", "ab", 0, 80, "\rab\x1b[K\r"},
		{"scrolls to keep the cursor visible", "$ ", "abcdefghij", 10, 8, "\r$ ghij\x1b[K\r\x1b[6C"},
		{"start of long line", "$ ", "abcdefghij", 0, 8, "\r$ abcde\x1b[K\r\x1b[2C"},
		{"tab shown as a space", "$ ", "a\tb", 3, 80, "\r$ a b\x1b[K\r\x1b[5C"},
		{"prompt wider than the terminal", "long prompt ", "xy", 2, 4, "\rlong prompt \x1b[K\r\x1b[12C"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(render(tc.prompt, displayWidth(tc.prompt), []rune(tc.line), tc.pos, tc.cols))
			if got != tc.want {
				t.Errorf("render = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDisplayWidth(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"$ ", 2},
		{"\x1b[1;32muser\x1b[0m# ", 6},
		{"line1\nab# ", 4},
		{"é€ ", 3},
		{"\x1b[", 0},
	}
	for _, tc := range tests {
		if got := displayWidth(tc.in); got != tc.want {
			t.Errorf("displayWidth(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
