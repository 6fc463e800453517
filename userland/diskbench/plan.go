package main

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
)

// The pure parts: where each read goes, how a read is cut into requests,
// and how repetitions are summarised and printed.

// seqOffset is the byte offset of the k-th sequential read of ioSize
// bytes, wrapping at the last whole ioSize chunk of a disk of diskSize.
func seqOffset(k int64, ioSize int, diskSize int64) int64 {
	chunks := diskSize / int64(ioSize)
	if chunks <= 0 {
		return 0
	}
	return k % chunks * int64(ioSize)
}

// randomOffset is a uniformly chosen ioSize-aligned offset of a whole
// ioSize chunk of the disk.
func randomOffset(rng *rand.Rand, ioSize int, diskSize int64) int64 {
	chunks := diskSize / int64(ioSize)
	if chunks <= 0 {
		return 0
	}
	return rng.Int64N(chunks) * int64(ioSize)
}

// piece is one request of a split read: n bytes at disk offset off, to
// byte at of the read's buffer.
type piece struct {
	off int64
	at  int
	n   int
}

// split cuts a read of n bytes at off into requests of at most max bytes.
func split(off int64, n, max int) []piece {
	if max <= 0 {
		max = n
	}
	var ps []piece
	for at := 0; at < n; at += max {
		m := min(max, n-at)
		ps = append(ps, piece{off + int64(at), at, m})
	}
	return ps
}

// minMedian returns the smallest and the median of vals (sorting them).
func minMedian(vals []float64) (float64, float64) {
	sort.Float64s(vals)
	return vals[0], vals[len(vals)/2]
}

// benchLine is ubench's line format, which tools/bench parses.
func benchLine(name string, min, median float64, unit string, reps int, secs float64) string {
	return fmt.Sprintf("bench: %s min %.3f median %.3f %s (%d repetitions of %s s)",
		name, min, median, unit, reps, strconv.FormatFloat(secs, 'f', -1, 64))
}

func leUint64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
