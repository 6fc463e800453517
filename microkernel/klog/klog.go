package klog

import (
	"fmt"

	"valence.dev/microkernel/clock"
	"valence.dev/microkernel/console"
)

// ringSize is the size of the dmesg buffer.
const ringSize = 64 << 10

var (
	ring     [ringSize]byte
	ringHead uint64 // total bytes ever appended
)

// Printf logs one line (a trailing newline is added if missing).
func Printf(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	var l Line
	l.S(s)
	l.Emit()
}

// Line is a log line under construction, built without allocating.
type Line struct {
	buf [512]byte
	n   int
}

// S appends a string.
func (l *Line) S(s string) *Line {
	for i := 0; i < len(s) && l.n < len(l.buf); i++ {
		l.buf[l.n] = s[i]
		l.n++
	}
	return l
}

// B appends bytes.
func (l *Line) B(b []byte) *Line {
	for i := 0; i < len(b) && l.n < len(l.buf); i++ {
		l.buf[l.n] = b[i]
		l.n++
	}
	return l
}

// U appends an unsigned decimal.
func (l *Line) U(v uint64) *Line {
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return l.B(tmp[i:])
}

// U2 appends an unsigned decimal of at least two digits (dates, times).
func (l *Line) U2(v uint64) *Line {
	if v < 10 {
		l.S("0")
	}
	return l.U(v)
}

// I appends a signed decimal.
func (l *Line) I(v int64) *Line {
	if v < 0 {
		l.S("-")
		return l.U(uint64(-v))
	}
	return l.U(uint64(v))
}

// X appends 0x and a hexadecimal number.
func (l *Line) X(v uint64) *Line {
	l.S("0x")
	return l.hex(v, 1)
}

// X16 appends a hexadecimal number zero-padded to 16 digits, without 0x, as
// register dumps show them.
func (l *Line) X16(v uint64) *Line { return l.hex(v, 16) }

func (l *Line) hex(v uint64, min int) *Line {
	const digits = "0123456789abcdef"
	var tmp [16]byte
	i := len(tmp)
	for v != 0 || len(tmp)-i < min {
		i--
		tmp[i] = digits[v&0xF]
		v >>= 4
	}
	return l.B(tmp[i:])
}

// Frac appends v/div with the given number of decimals, e.g. Frac(1234, 1000, 2) = "1.23".
func (l *Line) Frac(v, div uint64, decimals int) *Line {
	l.U(v / div)
	if decimals <= 0 {
		return l
	}
	l.S(".")
	rem := v % div
	for i := 0; i < decimals; i++ {
		rem *= 10
		l.buf0(byte('0' + rem/div))
		rem %= div
	}
	return l
}

func (l *Line) buf0(c byte) {
	if l.n < len(l.buf) {
		l.buf[l.n] = c
		l.n++
	}
}

// Emit writes the line with its timestamp and resets l.
func (l *Line) Emit() {
	if l.n == 0 || l.buf[l.n-1] != '\n' {
		if l.n == len(l.buf) {
			l.n--
		}
		l.buf[l.n] = '\n'
		l.n++
	}
	emit(l.buf[:l.n])
	l.n = 0
}

// stamp formats "[%5d.%06d] " for the time now.
func stamp(buf *[32]byte) []byte {
	ns := clock.Monotonic()
	var l Line
	sec := uint64(ns / 1e9)
	us := uint64(ns % 1e9 / 1e3)
	l.S("[")
	var digits int
	for v := sec; ; v /= 10 {
		digits++
		if v < 10 {
			break
		}
	}
	for i := digits; i < 5; i++ {
		l.S(" ")
	}
	l.U(sec).S(".")
	for d := uint64(100000); d > 0; d /= 10 {
		l.buf0(byte('0' + us/d%10))
	}
	l.S("] ")
	n := copy(buf[:], l.buf[:l.n])
	return buf[:n]
}

func emit(line []byte) {
	var sb [32]byte
	fl := console.Lock()
	if !console.AtLineStart() {
		console.WriteLocked([]byte{'\n'})
	}
	s := stamp(&sb)
	console.WriteLocked(s)
	console.WriteLocked(line)
	appendRing(s)
	appendRing(line)
	console.Unlock(fl)
}

func appendRing(b []byte) {
	for _, c := range b {
		ring[ringHead%ringSize] = c
		ringHead++
	}
}

// Dmesg returns a copy of the log ring's contents, oldest first.
func Dmesg() []byte {
	fl := console.Lock()
	defer console.Unlock(fl)
	n := ringHead
	if n > ringSize {
		n = ringSize
	}
	out := make([]byte, 0, n)
	for i := ringHead - n; i < ringHead; i++ {
		out = append(out, ring[i%ringSize])
	}
	return out
}

// RingSize is how many bytes of the log the ring keeps (syslog(2)'s
// SYSLOG_ACTION_SIZE_BUFFER).
const RingSize = ringSize

// Since returns the log written after position mark (a value Since
// returned before; 0 for the beginning), clamped to what the ring still
// holds, and the current position. Positions count every byte ever
// logged, so they never repeat.
func Since(mark uint64) ([]byte, uint64) {
	fl := console.Lock()
	defer console.Unlock(fl)
	from := mark
	if ringHead > ringSize && from < ringHead-ringSize {
		from = ringHead - ringSize
	}
	if from > ringHead {
		from = ringHead
	}
	out := make([]byte, 0, ringHead-from)
	for i := from; i < ringHead; i++ {
		out = append(out, ring[i%ringSize])
	}
	return out, ringHead
}
