package frame

import (
	"math/rand"
	"testing"
)

// benchFrames is 1 GiB of physical memory.
const benchFrames = 262144

// benchAlloc returns an allocator over 1 GiB with everything but frame 0
// free, then allocates used frames at random (fixed seed) so that the
// free frames left are scattered.
func benchAlloc(b *testing.B, used uint64) *Allocator {
	b.Helper()
	var a Allocator
	if err := a.Init(make([]uint64, WordsFor(benchFrames)), benchFrames); err != nil {
		b.Fatal(err)
	}
	if err := a.AddFree(0, benchFrames*PageSize); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewSource(1))
	for a.Stats().Allocated < used {
		f := 1 + uint64(rng.Int63n(benchFrames-1))
		if a.bits[f/64]>>(f%64)&1 == 0 {
			a.bits[f/64] |= 1 << (f % 64)
			a.free--
			a.noteAlloc(1)
		}
	}
	return &a
}

// BenchmarkAllocFree measures an Alloc/Free pair, the steady state of a
// page-fault-then-munmap workload.
func BenchmarkAllocFree(b *testing.B) {
	for _, bc := range []struct {
		name string
		used uint64
	}{
		{"empty", 0},
		{"half", benchFrames / 2},
		{"nearly-full", benchFrames - 1 - 64}, // 64 free frames
	} {
		b.Run(bc.name, func(b *testing.B) {
			a := benchAlloc(b, bc.used)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				pa, err := a.Alloc()
				if err != nil {
					b.Fatal(err)
				}
				if err := a.Free(pa); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAllocDrain measures Alloc alone by draining the last 64 free
// frames of a nearly full 1 GiB bitmap, where each call has to skip full
// words, and refilling between rounds (refill time excluded).
func BenchmarkAllocDrain(b *testing.B) {
	for _, bc := range []struct {
		name string
		used uint64
	}{
		{"empty", 0},
		{"nearly-full", benchFrames - 1 - 64}, // 64 free frames
	} {
		b.Run(bc.name, func(b *testing.B) {
			a := benchAlloc(b, bc.used)
			var pas [64]uint64
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; {
				k := 0
				for ; k < len(pas) && i < b.N; k, i = k+1, i+1 {
					pa, err := a.Alloc()
					if err != nil {
						b.Fatal(err)
					}
					pas[k] = pa
				}
				b.StopTimer()
				for _, pa := range pas[:k] {
					if err := a.Free(pa); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkAllocContig2M measures allocating and freeing a 2 MiB page.
func BenchmarkAllocContig2M(b *testing.B) {
	for _, bc := range []struct {
		name string
		used uint64
	}{
		{"empty", 0},
		{"half", benchFrames / 2}, // randomly scattered: no 2 MiB run exists
	} {
		b.Run(bc.name, func(b *testing.B) {
			a := benchAlloc(b, bc.used)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				pa, err := a.AllocContig(512, 512)
				if err == ErrNoMemory {
					continue
				}
				if err != nil {
					b.Fatal(err)
				}
				if err := a.FreeContig(pa, 512); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
