package rt

import (
	"math/rand/v2"

	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/clock"
)

// The kernel's random numbers: a ChaCha8 generator (math/rand/v2, a
// cryptographically strong stream for a secret seed) seeded at boot from
// RDSEED/RDRAND when the CPU has them, mixed with TSC timing jitter and the
// wall clock. It feeds AT_RANDOM (the runtime's own seed) and getrandom(2).
var (
	rng       rand.ChaCha8
	atRandom  [16]byte
	hwRandom  bool
	seedBytes [32]byte
)

// rdrand64 returns a hardware random number if the CPU supports RDRAND
// (trap_amd64.s).
func rdrand64() (uint64, bool)

func seedRandom() {
	_, _, ecx, _ := amd64.Cpuid(1, 0)
	hwRandom = ecx&(1<<30) != 0
	for i := 0; i < 4; i++ {
		v := amd64.Rdtsc() ^ uint64(clock.Wall())<<17
		if hwRandom {
			if r, ok := rdrand64(); ok {
				v ^= r
			}
		}
		// Timing jitter: the TSC's low bits after a short, variable loop.
		for j := uint64(0); j < 64+v&63; j++ {
			v = v*6364136223846793005 + amd64.Rdtsc()
		}
		for b := 0; b < 8; b++ {
			seedBytes[i*8+b] = byte(v >> (8 * b))
		}
	}
	rng.Seed(seedBytes)
	randomFill(atRandom[:])
}

// randomFill fills p with random bytes.
func randomFill(p []byte) {
	rng.Read(p)
}

// RandomBytes fills p from the kernel's generator; callable from goroutines.
func RandomBytes(p []byte) {
	fl := amd64.SaveFlagsAndDisable()
	randomFill(p)
	amd64.RestoreFlags(fl)
}
