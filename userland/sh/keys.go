package main

import "unicode/utf8"

// keyKind names what a key press asks the line editor to do.
type keyKind uint8

const (
	keyNone      keyKind = iota
	keyRune              // insert key.r
	keyEnter             // ^M or ^J: accept the line
	keyBackspace         // DEL or ^H: delete left of the cursor
	keyDelete            // ESC [ 3 ~: delete under the cursor
	keyEOF               // ^D: end of input on an empty line, else delete
	keyInterrupt         // ^C: abandon the line
	keyLeft              // ^B, cursor left
	keyRight             // ^F, cursor right
	keyHome              // ^A, Home
	keyEnd               // ^E, End
	keyWordLeft          // ESC b, Ctrl/Alt-Left
	keyWordRight         // ESC f, Ctrl/Alt-Right
	keyUp                // ^P, Up: previous history entry
	keyDown              // ^N, Down: next history entry
	keyKillStart         // ^U: delete from the start of the line to the cursor
	keyKillEnd           // ^K: delete from the cursor to the end of the line
	keyKillWord          // ^W, ESC DEL: delete the word left of the cursor
	keyClear             // ^L: clear the screen and redraw
)

// key is one decoded key press.
type key struct {
	kind keyKind
	r    rune // for keyRune
}

// maxSeq bounds a pending escape sequence. ECMA-48 control sequences the
// editor understands are a few bytes long; longer ones are skipped to their
// final byte without being stored, so hostile input cannot grow the decoder.
const maxSeq = 16

// keyDecoder turns the bytes a terminal sends into key presses. It is a
// streaming state machine: feed it one byte at a time; it holds an
// incomplete UTF-8 character or escape sequence until the bytes that finish
// it arrive. It understands what VT100, the Linux console and xterm send:
// ECMA-48 CSI sequences (ESC [ params final), SS3 sequences (ESC O final,
// the application cursor keys of VT100) and Meta as an ESC prefix.
type keyDecoder struct {
	buf  [maxSeq]byte
	n    int
	skip bool // inside an over-long CSI sequence: drop bytes to its final byte
}

// controlKeys maps C0 control characters to editing keys (emacs bindings,
// as readline and libedit use).
var controlKeys = [0x20]keyKind{
	0x01: keyHome, 0x02: keyLeft, 0x03: keyInterrupt, 0x04: keyEOF,
	0x05: keyEnd, 0x06: keyRight, 0x08: keyBackspace, 0x0a: keyEnter,
	0x0b: keyKillEnd, 0x0c: keyClear, 0x0d: keyEnter, 0x0e: keyDown,
	0x10: keyUp, 0x15: keyKillStart, 0x17: keyKillWord,
}

// feed consumes one byte and reports a key when the byte completes one.
func (d *keyDecoder) feed(b byte) (key, bool) {
	if d.skip {
		if b >= 0x40 && b <= 0x7e {
			d.skip = false
		}
		return key{}, false
	}
	if d.n == 0 {
		return d.start(b)
	}
	if d.buf[0] == 0x1b {
		return d.escape(b)
	}
	return d.utf8(b)
}

// start handles a byte outside any sequence.
func (d *keyDecoder) start(b byte) (key, bool) {
	switch {
	case b == 0x1b:
		d.buf[0], d.n = b, 1
		return key{}, false
	case b == '\t':
		return key{kind: keyRune, r: '\t'}, true
	case b < 0x20:
		k := controlKeys[b]
		return key{kind: k}, k != keyNone
	case b == 0x7f:
		return key{kind: keyBackspace}, true
	case b < 0x80:
		return key{kind: keyRune, r: rune(b)}, true
	case utf8.RuneStart(b) && b >= 0xc2 && b <= 0xf4:
		d.buf[0], d.n = b, 1
		return key{}, false
	}
	return key{}, false // a stray continuation or invalid lead byte
}

// utf8 continues a multi-byte character.
func (d *keyDecoder) utf8(b byte) (key, bool) {
	if b&0xc0 != 0x80 {
		d.n = 0 // truncated character: drop it, decode b afresh
		return d.start(b)
	}
	d.buf[d.n] = b
	d.n++
	if !utf8.FullRune(d.buf[:d.n]) {
		if d.n >= utf8.UTFMax {
			d.n = 0
		}
		return key{}, false
	}
	r, _ := utf8.DecodeRune(d.buf[:d.n])
	d.n = 0
	if r == utf8.RuneError {
		return key{}, false
	}
	return key{kind: keyRune, r: r}, true
}

// escape continues a sequence that began with ESC.
func (d *keyDecoder) escape(b byte) (key, bool) {
	if d.n == 1 {
		switch b {
		case '[', 'O':
			d.buf[1], d.n = b, 2
			return key{}, false
		case 0x1b:
			return key{}, false // ESC ESC: still one pending ESC
		}
		d.n = 0
		switch b {
		case 'b', 'B':
			return key{kind: keyWordLeft}, true
		case 'f', 'F':
			return key{kind: keyWordRight}, true
		case 0x7f, 0x08:
			return key{kind: keyKillWord}, true
		}
		if b < 0x20 {
			return d.start(b) // ESC then a control key: the ESC was a lone Escape
		}
		return key{}, false // Meta-<char> that the editor does not bind
	}
	if d.buf[1] == 'O' { // SS3: one final byte
		d.n = 0
		return ss3Key(b)
	}
	switch {
	case b >= 0x40 && b <= 0x7e: // CSI final byte
		params := string(d.buf[2:d.n])
		d.n = 0
		return csiKey(params, b)
	case b >= 0x20 && b <= 0x3f: // parameter or intermediate byte
		if d.n == maxSeq {
			d.n, d.skip = 0, true
			return key{}, false
		}
		d.buf[d.n] = b
		d.n++
		return key{}, false
	}
	d.n = 0 // not a valid CSI byte: abandon the sequence
	return d.start(b)
}

func ss3Key(b byte) (key, bool) {
	switch b {
	case 'A':
		return key{kind: keyUp}, true
	case 'B':
		return key{kind: keyDown}, true
	case 'C':
		return key{kind: keyRight}, true
	case 'D':
		return key{kind: keyLeft}, true
	case 'H':
		return key{kind: keyHome}, true
	case 'F':
		return key{kind: keyEnd}, true
	}
	return key{}, false
}

// csiKey maps a complete CSI sequence: cursor keys (with a modifier
// parameter such as "1;5" for Ctrl they move by words) and the VT220-style
// editing keys ESC [ n ~.
func csiKey(params string, final byte) (key, bool) {
	modified := params != "" && params != "1"
	switch final {
	case 'A':
		return key{kind: keyUp}, true
	case 'B':
		return key{kind: keyDown}, true
	case 'C':
		if modified {
			return key{kind: keyWordRight}, true
		}
		return key{kind: keyRight}, true
	case 'D':
		if modified {
			return key{kind: keyWordLeft}, true
		}
		return key{kind: keyLeft}, true
	case 'H':
		return key{kind: keyHome}, true
	case 'F':
		return key{kind: keyEnd}, true
	case '~':
		switch params {
		case "1", "7":
			return key{kind: keyHome}, true
		case "4", "8":
			return key{kind: keyEnd}, true
		case "3":
			return key{kind: keyDelete}, true
		}
	}
	return key{}, false
}
