package manifest

import (
	"testing"
)

// FuzzManifest feeds Parse arbitrary bytes: it must never panic, and a
// manifest it accepts must be consistent (every dependency placed before
// its user, one console at most, limits kept).
func FuzzManifest(f *testing.F) {
	f.Add(defaultTOML)
	f.Add([]byte(minimal))
	f.Add([]byte(graph("a: b", "b: c", "c:")))
	f.Add([]byte(graph("a: b", "b: a")))
	f.Add([]byte("[service.a]\nprogram = \"/bin/a\"\ncaps = [\"driver:x\"]\nbackoff = { initial = \"1s\" }\n"))
	f.Add([]byte("[service.a]\nprogram=\"/a\"\nserves=\"echo\"\ncaps=[\"register\"]\nheartbeat=\"10ms\"\ntimeout=\"1h\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse("fuzz", data)
		if err != nil {
			return
		}
		if len(m.Services) == 0 || len(m.Services) > MaxServices {
			t.Fatalf("%d services accepted", len(m.Services))
		}
		placed := map[string]bool{}
		consoles := 0
		for _, s := range m.Services {
			for _, d := range s.Depends {
				if !placed[d] {
					t.Fatalf("%s comes before its dependency %s", s.Name, d)
				}
			}
			placed[s.Name] = true
			if s.Console {
				consoles++
			}
			if s.Backoff.Initial > s.Backoff.Max || s.Heartbeat != 0 && s.Serves == "" || len(s.Caps) > MaxCaps {
				t.Fatalf("inconsistent service accepted: %+v", s)
			}
		}
		if consoles > 1 {
			t.Fatalf("%d consoles accepted", consoles)
		}
	})
}
