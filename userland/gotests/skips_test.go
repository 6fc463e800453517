package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestSkipRegexp checks the -test.skip pattern level by level, as the
// testing package applies it: split at "|" into alternatives and each at
// "/" into one regexp per level of test name.
func TestSkipRegexp(t *testing.T) {
	re := skipRegexp([]string{"TestA", "TestB/sub.x", "TestMulti*", "TestC/from/d"})
	want := "^TestA$|^TestB$/^sub\\.x$|^TestMulti|^TestC$/^from$/^d$"
	if re != want {
		t.Fatalf("skipRegexp = %q, want %q", re, want)
	}
	skipped := func(name string) bool {
		levels := strings.Split(name, "/")
	alts:
		for _, alt := range strings.Split(re, "|") {
			pats := strings.Split(alt, "/")
			if len(pats) > len(levels) {
				continue
			}
			for i, p := range pats {
				if !regexp.MustCompile(p).MatchString(levels[i]) {
					continue alts
				}
			}
			return true
		}
		return false
	}
	for name, want := range map[string]bool{
		"TestA": true, "TestA/x": true, "TestAB": false,
		"TestB": false, "TestB/sub.x": true, "TestB/subyx": false,
		"TestMultiOpen": true, "TestMultiOpen/bSbF": true, "TestMult": false,
		"TestC/from/d": true, "TestC/to/d": false, "TestC/from/dd": false,
	} {
		if got := skipped(name); got != want {
			t.Errorf("%s skipped: %v, want %v", name, got, want)
		}
	}
	for suite, list := range skips {
		for _, s := range list {
			if s.why == "" || !strings.HasPrefix(s.test, "Test") {
				t.Errorf("%s: bad skip entry %+v", suite, s)
			}
		}
	}
}
