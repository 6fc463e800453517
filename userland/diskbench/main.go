// Command diskbench measures reads from the NVMe disk, as the first
// process of a guest: in Valence through the NVMe driver and the block
// protocol (it starts pcid, looks up nvme0 and attaches shared buffers),
// and in a Linux guest through /dev/nvme0n1 opened with O_DIRECT (it loads
// the nvme modules from /lib/modules first). tools/bench boots both with
// the same QEMU NVMe device and compares the figures.
//
// Workloads, each at queue depth 1 and 32 (that many goroutines, each
// with one request in flight):
//
//	nvme-seq-1MiB-qd<N>   sequential 1 MiB reads, MiB/s
//	nvme-rand-4KiB-qd<N>  random aligned 4 KiB reads, IOPS
//
// A 1 MiB read larger than the most one request may move is split into
// requests of that size, all sent at once (as Linux's block layer does).
// Each workload runs for DISKBENCH_SECONDS (default 2) five times and is
// reported in ubench's format, with the min and median of the five:
//
//	bench: <name> min <v> median <v> <unit> (<n> repetitions of <s> s)
//
// Before measuring, the whole disk is read once and checked: tools/bench
// fills the image so that every 512-byte sector starts with its number
// (xor a constant), and every read is checked at its first and last
// sector, so a read of the wrong blocks fails instead of counting.
package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

const (
	reps     = 5
	maxQD    = 32
	seqSize  = 1 << 20
	randSize = 4 << 10
	// sector is the unit of the fill pattern (the image's layout, not
	// necessarily the device's block size).
	sector = 512
	// patternMagic is xored into each sector's number in its first 8
	// bytes ("valence" in ASCII); tools/bench writes the same.
	patternMagic = 0x76616c656e6365
)

// disk is one way to the NVMe namespace.
type disk interface {
	// size is the disk's length in bytes.
	size() int64
	// read reads n bytes at byte offset off into slot's buffer (slot <
	// maxQD; n at most seqSize) and returns them.
	read(slot int, off int64, n int) ([]byte, error)
	// describe says what was opened, for the log.
	describe() string
}

type workload struct {
	name   string
	ioSize int
	qd     int
	random bool
	unit   string // "MiB/s" or "IOPS"
}

var workloads = []workload{
	{"nvme-seq-1MiB-qd1", seqSize, 1, false, "MiB/s"},
	{"nvme-seq-1MiB-qd32", seqSize, 32, false, "MiB/s"},
	{"nvme-rand-4KiB-qd1", randSize, 1, true, "IOPS"},
	{"nvme-rand-4KiB-qd32", randSize, 32, true, "IOPS"},
}

func main() {
	fmt.Println("diskbench: start")
	code := run()
	fmt.Println("diskbench: done")
	finish(code)
}

func run() int {
	d, err := openDisk()
	if err != nil {
		fmt.Println("diskbench: FAILED: opening the disk:", err)
		return 1
	}
	fmt.Println("diskbench:", d.describe())
	t0 := time.Now()
	if err := warmUp(d); err != nil {
		fmt.Println("diskbench: FAILED: reading the whole disk:", err)
		return 1
	}
	fmt.Printf("diskbench: read and checked all %d MiB in %v\n", d.size()>>20, time.Since(t0).Round(time.Millisecond))
	secs := envFloat("DISKBENCH_SECONDS", 2)
	dur := time.Duration(secs * float64(time.Second))
	code := 0
	for _, w := range workloads {
		var vals []float64
		for r := 0; r < reps; r++ {
			res, err := measure(d, w, dur, uint64(r))
			if err != nil {
				fmt.Printf("bench: %s FAILED: %v\n", w.name, err)
				code = 1
				break
			}
			vals = append(vals, res.rate(w.unit))
		}
		if len(vals) < reps {
			continue
		}
		min, med := minMedian(vals)
		fmt.Println(benchLine(w.name, min, med, w.unit, reps, secs))
	}
	return code
}

// warmUp reads the whole disk once, sequentially with maxQD requests in
// flight, checking every sector: it proves the pattern is there and puts
// the image in the host's page cache for both guests alike.
func warmUp(d disk) error {
	chunks := d.size() / seqSize
	var next atomic.Int64
	errs := make(chan error, maxQD)
	var wg sync.WaitGroup
	for s := 0; s < maxQD; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := next.Add(1) - 1
				if k >= chunks {
					return
				}
				b, err := d.read(s, k*seqSize, seqSize)
				if err == nil {
					err = checkAll(b, k*seqSize)
				}
				if err != nil {
					errs <- err
					next.Store(chunks)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

type result struct {
	ops     int64
	bytes   int64
	elapsed time.Duration
}

func (r result) rate(unit string) float64 {
	s := r.elapsed.Seconds()
	if unit == "IOPS" {
		return float64(r.ops) / s
	}
	return float64(r.bytes) / (1 << 20) / s
}

// measure runs w for about dur with w.qd goroutines.
func measure(d disk, w workload, dur time.Duration, seed uint64) (result, error) {
	var (
		next  atomic.Int64 // sequential: the next chunk
		ops   atomic.Int64
		stop  atomic.Bool
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	t0 := time.Now()
	deadline := t0.Add(dur)
	for s := 0; s < w.qd; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(s)))
			for !stop.Load() && time.Now().Before(deadline) {
				var off int64
				if w.random {
					off = randomOffset(rng, w.ioSize, d.size())
				} else {
					off = seqOffset(next.Add(1)-1, w.ioSize, d.size())
				}
				b, err := d.read(s, off, w.ioSize)
				if err == nil {
					err = checkEnds(b, off)
				}
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					stop.Store(true)
					return
				}
				ops.Add(1)
			}
		}()
	}
	wg.Wait()
	r := result{ops: ops.Load(), elapsed: time.Since(t0)}
	r.bytes = r.ops * int64(w.ioSize)
	if first == nil && r.ops == 0 {
		first = errors.New("no read completed")
	}
	return r, first
}

// checkEnds checks the pattern in the first and last sector of b, read
// from byte offset off.
func checkEnds(b []byte, off int64) error {
	if err := checkSector(b, off); err != nil {
		return err
	}
	if len(b) > sector {
		return checkSector(b[len(b)-sector:], off+int64(len(b)-sector))
	}
	return nil
}

func checkAll(b []byte, off int64) error {
	for i := 0; i+sector <= len(b); i += sector {
		if err := checkSector(b[i:], off+int64(i)); err != nil {
			return err
		}
	}
	return nil
}

func checkSector(b []byte, off int64) error {
	want := uint64(off/sector) ^ patternMagic
	got := leUint64(b)
	if got != want {
		return fmt.Errorf("sector %d starts with %#x, want %#x (read of the wrong blocks?)", off/sector, got, want)
	}
	return nil
}

func envFloat(name string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil && v > 0 {
		return v
	}
	return def
}
