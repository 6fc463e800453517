package tests

import (
	"regexp"
	"testing"
)

// ipctests are the checks the ipctests program reports one by one (see
// userland/ipctests).
var ipctests = []string{
	"call-reply", "badge", "pass-handle", "attenuation", "forged-stale", "no-handle",
	"revoke-grandchild", "server-death", "shared-memory", "notify-bind", "typed-rpc",
}

// TestIPC runs the capability and IPC tests as init: processes calling a
// server, passing handles, refused attenuations, revocation reaching a
// grandchild, forged and stale handles, a process without handles, a
// server killed under a blocked client (which must fail with "peer died"
// while the kernel stays up), and shared memory. It runs in debug mode
// (debug_test.go): the kernel checks its invariants after every change.
func TestIPC(t *testing.T) {
	m := boot(t, "init=/bin/ipctests debug")
	verdict := m.Expect(`ipctests: (PASS|FAIL)\b`, bootTimeout)[1]
	code := m.ExpectExit(stepTimeout)
	out := m.Output()
	if verdict != "PASS" {
		t.Errorf("ipctests reported %s", verdict)
	}
	if code != 0 {
		t.Errorf("QEMU exited with status %d, want 0", code)
	}
	for _, name := range ipctests {
		if !regexp.MustCompile(`ipctests: ` + regexp.QuoteMeta(name) + `: ok\b`).MatchString(out) {
			t.Errorf("no %q: ok line", name)
		}
	}
	checkDebugMode(t, out)
}
