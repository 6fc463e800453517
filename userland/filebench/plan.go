package main

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// The pure parts: the figures' names, the data pattern and its check,
// the summary of repetitions and its line, which workloads to run, and
// which mount a directory is on.

const (
	// block is the unit of the data pattern: every 4 KiB block of a data
	// file starts with its own byte offset xor patternMagic, then the
	// file's tag, so a read of the wrong place, or of another file,
	// fails instead of counting.
	block        = 4 << 10
	patternMagic = 0x66696c6562656e63 // "filebenc"
)

// sizeName is n bytes as a figure's name puts it: 1KiB, 4KiB, 256MiB,
// 1GiB; a size that is no whole KiB stays in bytes (100B).
func sizeName(n int64) string {
	for _, u := range []struct {
		shift uint
		name  string
	}{{30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// The figures' names carry their sizes, so figures measured with
// different sizes are never compared with each other.
func createName(files, size int) string {
	return fmt.Sprintf("fs-create-%s-fsync-x%d", sizeName(int64(size)), files)
}
func seqName(op string, bytes int64) string { return "fs-seq-" + op + "-" + sizeName(bytes) }
func randName(bytes int64) string {
	return "fs-rand-read-" + sizeName(block) + "-" + sizeName(bytes)
}
func statName(files int) string { return fmt.Sprintf("fs-stat-x%d", files) }

// stamp writes the pattern into b, the bytes of a file at offset off (a
// multiple of block; len(b) a whole number of blocks), for the file
// tagged tag. The bytes after each block's header are left as they are.
func stamp(b []byte, off int64, tag uint64) {
	for i := 0; i+block <= len(b); i += block {
		binary.LittleEndian.PutUint64(b[i:], uint64(off+int64(i))^patternMagic)
		binary.LittleEndian.PutUint64(b[i+8:], tag)
	}
}

// check verifies the pattern in b, read from offset off of the file
// tagged tag.
func check(b []byte, off int64, tag uint64) error {
	for i := 0; i+block <= len(b); i += block {
		at := off + int64(i)
		got := binary.LittleEndian.Uint64(b[i:]) ^ patternMagic
		gotTag := binary.LittleEndian.Uint64(b[i+8:])
		if got != uint64(at) || gotTag != tag {
			return fmt.Errorf("the block at %d holds offset %#x of file %#x, want offset %#x of file %#x (read of the wrong blocks?)",
				at, got, gotTag, at, tag)
		}
	}
	return nil
}

// filler is the fixed content of the rest of each block: never zero, so
// no block reads like a hole.
func filler(b []byte) {
	for i := range b {
		b[i] = byte(i*7+i/block) | 0x80
	}
}

// randomBlock is a uniformly chosen block-aligned offset of a whole
// block of a file of size bytes.
func randomBlock(rng *rand.Rand, size int64) int64 {
	n := size / block
	if n <= 0 {
		return 0
	}
	return rng.Int64N(n) * block
}

// minMedian returns the smallest and the median of vals (sorting them).
func minMedian(vals []float64) (float64, float64) {
	sort.Float64s(vals)
	return vals[0], vals[len(vals)/2]
}

// benchLine is ubench's and diskbench's line format, which tools/bench
// parses; of says what one repetition was ("1000 files", "2 s").
func benchLine(name string, min, median float64, unit string, reps int, of string) string {
	return fmt.Sprintf("bench: %s min %.3f median %.3f %s (%d repetitions of %s)", name, min, median, unit, reps, of)
}

// The workloads, by the names -run takes.
var allWorkloads = []string{"create", "stat", "seq", "rand"}

// parseRun reads -run: workload names separated by commas, "all" for
// every one. The result keeps allWorkloads' order.
func parseRun(s string) (map[string]bool, error) {
	want := map[string]bool{}
	for _, w := range strings.Split(s, ",") {
		w = strings.TrimSpace(w)
		switch {
		case w == "":
		case w == "all":
			for _, a := range allWorkloads {
				want[a] = true
			}
		case contains(allWorkloads, w):
			want[w] = true
		default:
			return nil, fmt.Errorf("unknown workload %q (have %s, all)", w, strings.Join(allWorkloads, ", "))
		}
	}
	if len(want) == 0 {
		return nil, fmt.Errorf("no workload chosen")
	}
	return want, nil
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// mountFor is the line of a /proc/mounts text for the mount that dir
// (absolute, clean) is on: the longest mount point containing it.
func mountFor(mounts, dir string) string {
	best, bestLen := "", -1
	for _, l := range strings.Split(mounts, "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		mp := f[1]
		if (dir == mp || mp == "/" || strings.HasPrefix(dir, mp+"/")) && len(mp) > bestLen {
			best, bestLen = strings.Join(f, " "), len(mp)
		}
	}
	return best
}

// statOrder is the order in which the stat workload's repetition rep
// visits files 0..n-1: a fresh shuffle each time, the same on every
// system.
func statOrder(n, rep int) []int {
	return rand.New(rand.NewPCG(uint64(n), uint64(rep))).Perm(n)
}

// newRand is the random-read workload's generator for repetition rep:
// the same sequence on every system.
func newRand(rep uint64) *rand.Rand { return rand.New(rand.NewPCG(rep, 0x7a4d)) }
