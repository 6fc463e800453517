package main

import (
	"sync"
	"time"
)

// timer runs f once after d unless stopped first; stop guarantees that
// f is not running and will not run, so f may use handles the caller is
// about to close.
type timer struct {
	mu      sync.Mutex
	stopped bool
	t       *time.Timer
}

func newTimer(d time.Duration, f func()) *timer {
	tm := &timer{}
	tm.t = time.AfterFunc(d, func() {
		tm.mu.Lock()
		defer tm.mu.Unlock()
		if !tm.stopped {
			f()
		}
	})
	return tm
}

func (tm *timer) stop() {
	tm.t.Stop()
	tm.mu.Lock()
	tm.stopped = true
	tm.mu.Unlock()
}
