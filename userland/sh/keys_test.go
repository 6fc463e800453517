package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func decodeAll(in string) []key {
	var d keyDecoder
	var keys []key
	for i := 0; i < len(in); i++ {
		if k, ok := d.feed(in[i]); ok {
			keys = append(keys, k)
		}
	}
	return keys
}

func TestKeyDecoder(t *testing.T) {
	r := func(c rune) key { return key{kind: keyRune, r: c} }
	k := func(kind keyKind) key { return key{kind: kind} }
	tests := []struct {
		name string
		in   string
		want []key
	}{
		{"ascii", "ab", []key{r('a'), r('b')}},
		{"utf8", "é€😀", []key{r('é'), r('€'), r('😀')}},
		{"enter cr and lf", "\r\n", []key{k(keyEnter), k(keyEnter)}},
		{"controls", "\x01\x02\x03\x04\x05\x06\x08\x0b\x0c\x0e\x10\x15\x17\x7f",
			[]key{k(keyHome), k(keyLeft), k(keyInterrupt), k(keyEOF), k(keyEnd), k(keyRight),
				k(keyBackspace), k(keyKillEnd), k(keyClear), k(keyDown), k(keyUp), k(keyKillStart),
				k(keyKillWord), k(keyBackspace)}},
		{"unbound control ignored", "\x1a\x00x", []key{r('x')}},
		{"tab inserts", "\t", []key{r('\t')}},
		{"csi arrows", "\x1b[A\x1b[B\x1b[C\x1b[D", []key{k(keyUp), k(keyDown), k(keyRight), k(keyLeft)}},
		{"ss3 arrows (vt100 application mode)", "\x1bOA\x1bOD\x1bOH\x1bOF", []key{k(keyUp), k(keyLeft), k(keyHome), k(keyEnd)}},
		{"home end", "\x1b[H\x1b[F\x1b[1~\x1b[4~\x1b[7~\x1b[8~", []key{k(keyHome), k(keyEnd), k(keyHome), k(keyEnd), k(keyHome), k(keyEnd)}},
		{"delete", "\x1b[3~", []key{k(keyDelete)}},
		{"ctrl arrows move by word", "\x1b[1;5C\x1b[1;3D", []key{k(keyWordRight), k(keyWordLeft)}},
		{"meta", "\x1bb\x1bf\x1b\x7f", []key{k(keyWordLeft), k(keyWordRight), k(keyKillWord)}},
		{"unknown csi consumed", "\x1b[99;99zq", []key{r('q')}},
		{"unbound meta dropped", "\x1bqx", []key{r('x')}},
		{"esc then control", "\x1b\x01", []key{k(keyHome)}},
		{"broken csi restarts", "\x1b[1\x01", []key{k(keyHome)}},
		{"truncated utf8", "\xc3x", []key{r('x')}},
		{"stray continuation", "\x80\xbfx", []key{r('x')}},
		{"invalid lead bytes", "\xc0\xc1\xf5\xffx", []key{r('x')}},
		{"overlong csi skipped to final byte", "\x1b[" + "1111111111111111111111111111111111" + "Ax", []key{r('x')}},
		{"surrogate encoding dropped", "\xed\xa0\x80x", []key{r('x')}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := decodeAll(tc.in)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(key{})); diff != "" {
				t.Errorf("decode(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// FuzzKeyDecoder feeds arbitrary terminal input to the decoder and the
// editor: nothing panics, the decoder's pending sequence stays bounded, and
// the line keeps its invariants.
func FuzzKeyDecoder(f *testing.F) {
	for _, s := range []string{"echo hi\r", "\x1b[A\x1b[1;5C\x1b[3~", "é€\x17\x15", "\x1b[" + string(make([]byte, 40)), "\xff\xfe\x1bO"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d keyDecoder
		b := newLineBuffer([]string{"one", "two\nlines"})
		for _, c := range data {
			k, ok := d.feed(c)
			if d.n < 0 || d.n > maxSeq {
				t.Fatalf("pending sequence of %d bytes", d.n)
			}
			if !ok {
				continue
			}
			if k.kind == keyRune && (k.r < 0 || k.r > 0x10ffff) {
				t.Fatalf("bad rune %U", k.r)
			}
			if b.apply(k) == editAccept {
				b = newLineBuffer(b.hist)
			}
			if b.pos < 0 || b.pos > len(b.line) || len(b.line) > maxEditLine || b.histPos < 0 || b.histPos > len(b.hist) {
				t.Fatalf("line invariant broken: pos %d len %d hist %d", b.pos, len(b.line), b.histPos)
			}
			render("$ ", 2, b.line, b.pos, 20)
		}
	})
}
