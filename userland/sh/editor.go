package main

import (
	"strconv"
	"unicode"
)

// maxEditLine bounds the line the editor holds, in characters; keys past it
// ring the bell. (A terminal in canonical mode stops at 4095 bytes.)
const maxEditLine = 64 << 10

// editAction is what a key did to the line as a whole.
type editAction uint8

const (
	editContinue  editAction = iota // keep editing
	editAccept                      // the line is complete
	editEOF                         // ^D on an empty line
	editInterrupt                   // ^C: abandon the line
	editBell                        // the key could not be applied
	editClear                       // clear the screen, then redraw
)

// lineBuffer is the line being edited: its characters, the cursor, and the
// position in the history list. Invariants: 0 <= pos <= len(line) <=
// maxEditLine; 0 <= histPos <= len(hist).
type lineBuffer struct {
	line    []rune
	pos     int
	hist    []string // history, oldest first; read only
	histPos int      // len(hist) is the line being typed
	pending []rune   // the line being typed while browsing history
}

func newLineBuffer(hist []string) *lineBuffer {
	return &lineBuffer{hist: hist, histPos: len(hist)}
}

// apply performs one key.
func (b *lineBuffer) apply(k key) editAction {
	switch k.kind {
	case keyRune:
		if len(b.line) >= maxEditLine {
			return editBell
		}
		b.line = append(b.line, 0)
		copy(b.line[b.pos+1:], b.line[b.pos:])
		b.line[b.pos] = k.r
		b.pos++
	case keyEnter:
		return editAccept
	case keyEOF:
		if len(b.line) == 0 {
			return editEOF
		}
		return b.deleteRange(b.pos, b.pos+1)
	case keyInterrupt:
		return editInterrupt
	case keyBackspace:
		return b.deleteRange(b.pos-1, b.pos)
	case keyDelete:
		return b.deleteRange(b.pos, b.pos+1)
	case keyLeft:
		return b.moveTo(b.pos - 1)
	case keyRight:
		return b.moveTo(b.pos + 1)
	case keyHome:
		b.pos = 0
	case keyEnd:
		b.pos = len(b.line)
	case keyWordLeft:
		b.pos = b.wordStart()
	case keyWordRight:
		b.pos = b.wordEnd()
	case keyKillStart:
		b.deleteRange(0, b.pos)
	case keyKillEnd:
		b.line = b.line[:b.pos]
	case keyKillWord:
		return b.deleteRange(b.wordStart(), b.pos)
	case keyUp:
		return b.browse(b.histPos - 1)
	case keyDown:
		return b.browse(b.histPos + 1)
	case keyClear:
		return editClear
	}
	return editContinue
}

func (b *lineBuffer) moveTo(p int) editAction {
	if p < 0 || p > len(b.line) {
		return editBell
	}
	b.pos = p
	return editContinue
}

// deleteRange removes line[from:to] and leaves the cursor at from.
func (b *lineBuffer) deleteRange(from, to int) editAction {
	if from < 0 || to > len(b.line) || from >= to {
		return editBell
	}
	b.line = append(b.line[:from], b.line[to:]...)
	b.pos = from
	return editContinue
}

// wordStart is where ^W and ESC b go: back over spaces, then over a word.
func (b *lineBuffer) wordStart() int {
	p := b.pos
	for p > 0 && unicode.IsSpace(b.line[p-1]) {
		p--
	}
	for p > 0 && !unicode.IsSpace(b.line[p-1]) {
		p--
	}
	return p
}

// wordEnd is where ESC f goes: over spaces, then to the end of a word.
func (b *lineBuffer) wordEnd() int {
	p := b.pos
	for p < len(b.line) && unicode.IsSpace(b.line[p]) {
		p++
	}
	for p < len(b.line) && !unicode.IsSpace(b.line[p]) {
		p++
	}
	return p
}

// browse shows history entry i (len(hist) is the line being typed).
func (b *lineBuffer) browse(i int) editAction {
	if i < 0 || i > len(b.hist) {
		return editBell
	}
	if b.histPos == len(b.hist) {
		b.pending = append(b.pending[:0], b.line...)
	}
	b.histPos = i
	if i == len(b.hist) {
		b.line = append(b.line[:0], b.pending...)
	} else {
		b.line = append(b.line[:0], []rune(b.hist[i])...)
		if len(b.line) > maxEditLine {
			b.line = b.line[:maxEditLine]
		}
	}
	b.pos = len(b.line)
	return editContinue
}

// render returns the bytes that redraw prompt and line on one terminal row
// of cols columns with the cursor in place. Only CR, ESC [ K (erase to end of
// line) and ESC [ n C (cursor forward) are used, which VT100, the Linux
// console and every emulator since understand. A line longer than the row
// scrolls horizontally so that the cursor stays visible, as linenoise does
// in its single-line mode; the terminal never wraps, so the editor never
// needs to know how it wraps.
func render(prompt string, promptCols int, line []rune, pos, cols int) []byte {
	width := cols - promptCols - 1
	if width < 1 {
		width = 1
	}
	start := 0
	if pos >= width {
		start = pos - width + 1
	}
	end := min(len(line), start+width)
	out := make([]byte, 0, len(prompt)+4*(end-start)+16)
	out = append(out, '\r')
	out = append(out, prompt...)
	for _, r := range line[start:end] {
		if r < 0x20 || r == 0x7f {
			r = ' ' // a tab (the only control character the editor inserts)
		}
		out = append(out, string(r)...)
	}
	out = append(out, "\x1b[K\r"...)
	if col := promptCols + pos - start; col > 0 {
		out = append(out, "\x1b["...)
		out = strconv.AppendInt(out, int64(col), 10)
		out = append(out, 'C')
	}
	return out
}

// displayWidth counts the columns a prompt occupies: its characters less
// any ECMA-48 escape sequences (a coloured PS1) and carriage returns.
func displayWidth(s string) int {
	n := 0
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; {
		case r == 0x1b && i+1 < len(rs) && rs[i+1] == '[':
			i += 2
			for i < len(rs) && (rs[i] < 0x40 || rs[i] > 0x7e) {
				i++
			}
		case r == '\n' || r == '\r':
			n = 0
		case r >= 0x20 && r != 0x7f:
			n++
		}
	}
	return n
}
