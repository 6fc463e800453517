package tests

import (
	"regexp"
	"testing"
	"time"
)

// attacks are the checks the attacks program reports one by one (see
// userland/attacks): each is a hostile or careless user program that once
// took the kernel down or got past a capability.
var attacks = []string{
	"ipc-storm", "mprotect-rights", "mprotect-exec", "stale-mapping", "stale-mapping-span", "unmap-pieces",
	"kill-rule", "vfork-kill", "zombie-reap", "signal-in-call",
	"detach-race", "spawn-pid-pointer", "spawn-e2big", "spawn-refused-reason",
	"endpoint-churn", "rlimit", "mem-object-limit", "spawn-flood", "thread-limit", "oom-victim",
	"caps-forged", "caps-stale", "caps-escalate", "caps-revoked", "caps-transfer", "caps-mapped",
	"fuzz-findings", "pipe-flood", "as-switch", "mount-abuse",
	"linux-mount-abuse", "reboot-refused", "splice-abuse", "syslog-abuse",
	"unix-hostile-args", "unix-cycles", "unix-fd-flood", "unix-byte-flood", "unix-close-under-call", "unix-races",
}

// consoleSays are lines the kernel must print during the attacks: a file
// refused by spawn is logged with the loader's reason, for any process;
// a mount(2) the mounter refuses, with the mounter's reason (a console
// line's worth of its 3000 bytes).
var consoleSays = []string{
	`proc: pid \d+ \(attacks\): (spawn|proc-spawn|execve) (/etc/[\w.]+) refused \(EACCES\): /etc/[\w.]+: not executable`,
	`proc: pid \d+ \(attacks\): mount /dev/liar0 \(valfs\) on /tmp refused \(EINVAL\): lying mounter: m{100}`,
}

// TestAttacks runs the hostile-user suite as init, in debug mode. The
// kernel must refuse or contain every attack: no kernel panic, no broken
// invariant, each test reports ok, and init (the suite) is never the one
// killed.
//
// The suite takes 3-4 minutes under TCG on an idle machine (the IPC storm
// and endpoint churn are most of it), and up to twice that on a busy one.
func TestAttacks(t *testing.T) {
	runAttacks(t, "init=/bin/attacks debug", 2*bootTimeout)
}

// TestSoakAttacks is the long run (make soak): the whole suite, with the
// IPC storm at 4 clients making 250,000 calls each (10^6 round trips)
// besides the exhaustion of each resource the suite always does.
func TestSoakAttacks(t *testing.T) {
	soak(t)
	runAttacks(t, "init=/bin/attacks debug ATTACKS_STORM_CALLS=250000", 3*time.Hour)
}

func runAttacks(t *testing.T, cmdline string, timeout time.Duration) {
	out := runVerdict(t, "attacks", cmdline, timeout)
	for _, name := range attacks {
		if !regexp.MustCompile(`attacks: ` + regexp.QuoteMeta(name) + `: ok\b`).MatchString(out) {
			t.Errorf("no %q: ok line", name)
		}
	}
	for _, re := range consoleSays {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("the console lacks %s", re)
		}
	}
	if t.Failed() {
		t.Logf("console:\n%s", out)
	}
}
