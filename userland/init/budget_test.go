package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"valence.dev/userland/init/manifest"
)

func spec(policy manifest.Policy, max int, window, initial, maxDelay time.Duration) *manifest.Service {
	return &manifest.Service{Name: "x", Restart: policy, MaxRestarts: max, Window: window,
		Backoff: manifest.Backoff{Initial: initial, Max: maxDelay}}
}

func TestDecide(t *testing.T) {
	ms := time.Millisecond
	today := spec(manifest.Always, 5, time.Minute, 250*ms, 4*time.Second) // the built-in fsd and netd
	type end struct {
		At    time.Duration // since t0
		Clean bool
	}
	tests := []struct {
		name string
		spec *manifest.Service
		ends []end
		want []decision
	}{
		{"five allowed, doubling, then stopped", today,
			[]end{{0, false}, {time.Second, false}, {2 * time.Second, false}, {3 * time.Second, false}, {4 * time.Second, false}, {5 * time.Second, false}},
			[]decision{{true, 250 * ms, ""}, {true, 500 * ms, ""}, {true, time.Second, ""}, {true, 2 * time.Second, ""}, {true, 4 * time.Second, ""},
				{Why: "restarted 5 times within 1m0s; not again"}}},
		{"old restarts age out of the window", today,
			[]end{{0, false}, {10 * time.Second, false}, {20 * time.Second, false}, {30 * time.Second, false}, {40 * time.Second, false}, {61 * time.Second, false}},
			[]decision{{true, 250 * ms, ""}, {true, 500 * ms, ""}, {true, time.Second, ""}, {true, 2 * time.Second, ""}, {true, 4 * time.Second, ""},
				{true, 4 * time.Second, ""}}}, // the one at 0 is over a minute old
		{"a quiet spell resets the delay", today,
			[]end{{0, false}, {time.Second, false}, {5 * time.Minute, false}},
			[]decision{{true, 250 * ms, ""}, {true, 500 * ms, ""}, {true, 250 * ms, ""}}},
		{"exactly a window later counts as outside", today,
			[]end{{0, false}, {time.Minute, false}},
			[]decision{{true, 250 * ms, ""}, {true, 250 * ms, ""}}},
		{"the delay stops at max", spec(manifest.Always, 100, time.Hour, 100*ms, 300*ms),
			[]end{{0, false}, {0, false}, {0, false}, {0, false}},
			[]decision{{true, 100 * ms, ""}, {true, 200 * ms, ""}, {true, 300 * ms, ""}, {true, 300 * ms, ""}}},
		{"always restarts a clean exit too", today,
			[]end{{0, true}}, []decision{{true, 250 * ms, ""}}},
		{"on-failure: a failure is restarted", spec(manifest.OnFailure, 5, time.Minute, 250*ms, 4*time.Second),
			[]end{{0, false}}, []decision{{true, 250 * ms, ""}}},
		{"on-failure: a clean exit is final", spec(manifest.OnFailure, 5, time.Minute, 250*ms, 4*time.Second),
			[]end{{0, true}}, []decision{{Why: "exited cleanly (restart on-failure)"}}},
		{"never", spec(manifest.Never, 5, time.Minute, 250*ms, 4*time.Second),
			[]end{{0, false}, {time.Hour, true}}, []decision{{Why: "restart policy never"}, {Why: "restart policy never"}}},
		{"max-restarts 0: never restarted, by budget", spec(manifest.Always, 0, time.Minute, 250*ms, 4*time.Second),
			[]end{{0, false}}, []decision{{Why: "restarted 0 times within 1m0s; not again"}}},
		{"the delay does not overflow", spec(manifest.Always, 1000, time.Hour, time.Hour, time.Hour),
			[]end{{0, false}, {0, false}, {0, false}}, []decision{{true, time.Hour, ""}, {true, time.Hour, ""}, {true, time.Hour, ""}}},
	}
	t0 := time.Unix(1_000_000, 0)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b budget
			var got []decision
			for _, e := range tc.ends {
				got = append(got, decide(tc.spec, &b, e.Clean, t0.Add(e.At)))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestBudgetReset(t *testing.T) {
	s := spec(manifest.Always, 1, time.Minute, time.Second, time.Second)
	var b budget
	now := time.Unix(1_000_000, 0)
	if d := decide(s, &b, false, now); !d.Restart {
		t.Fatalf("first end: %+v", d)
	}
	if d := decide(s, &b, false, now); d.Restart {
		t.Fatalf("second end within the window restarted: %+v", d)
	}
	b.reset() // svc start
	if d := decide(s, &b, false, now); !d.Restart {
		t.Errorf("after a reset: %+v", d)
	}
}
