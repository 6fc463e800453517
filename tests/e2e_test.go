package tests

import (
	"strings"
	"testing"
	"time"

	"valence.dev/tests/qemu"
)

const (
	// bootTimeout bounds a whole QEMU run, from launch to power-off.
	bootTimeout = 5 * time.Minute
	// stepTimeout bounds one console exchange once the kernel is up.
	stepTimeout = 2 * time.Minute
)

// boot starts Valence with the given command line. Tests that boot are
// skipped with -short, and never call t.Parallel.
func boot(t *testing.T, cmdline string) *qemu.Machine {
	t.Helper()
	if testing.Short() {
		t.Skip("boots the kernel under QEMU; skipped with -short")
	}
	return qemu.Boot(t, qemu.Options{Cmdline: cmdline, Timeout: bootTimeout})
}

// lines splits console output into lines.
func lines(out string) []string {
	return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
}
