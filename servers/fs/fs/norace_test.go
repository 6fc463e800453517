//go:build !race

package fs_test

// raceEnabled says whether the race detector is on, for tests that
// only measure.
const raceEnabled = false
