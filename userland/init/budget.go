package main

import (
	"fmt"
	"time"

	"valence.dev/userland/init/manifest"
)

// decision is what happens after a service's process ended.
type decision struct {
	Restart bool
	Delay   time.Duration // before the restart
	Why     string        // why not, when Restart is false
}

// budget remembers a service's recent restarts, for its max-restarts
// within its window.
type budget struct {
	times []time.Time
}

// reset forgets every restart (svc start and restart: a person asked).
func (b *budget) reset() { b.times = nil }

// decide applies spec's restart policy to a process that ended, cleanly
// (exit status 0, and not killed by init) or not, at now. A restart is
// recorded in b; the delay starts at the backoff's initial value for the
// first restart in the window and doubles with each more, up to its max.
// Once max-restarts restarts fall within the window, the next end is
// final: a service that keeps dying is not hammered forever.
func decide(spec *manifest.Service, b *budget, clean bool, now time.Time) decision {
	switch {
	case spec.Restart == manifest.Never:
		return decision{Why: "restart policy never"}
	case spec.Restart == manifest.OnFailure && clean:
		return decision{Why: "exited cleanly (restart on-failure)"}
	}
	recent := b.times[:0]
	for _, t := range b.times {
		if now.Sub(t) < spec.Window {
			recent = append(recent, t)
		}
	}
	b.times = recent
	if len(b.times) >= spec.MaxRestarts {
		return decision{Why: fmt.Sprintf("restarted %d times within %v; not again", spec.MaxRestarts, spec.Window)}
	}
	delay := spec.Backoff.Initial
	for i := 0; i < len(b.times) && delay < spec.Backoff.Max; i++ {
		delay *= 2
	}
	b.times = append(b.times, now)
	return decision{Restart: true, Delay: min(delay, spec.Backoff.Max)}
}
