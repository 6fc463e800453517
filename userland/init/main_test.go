package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/userland/init/manifest"
)

// TestLoadManifest: a good manifest is used; a missing or malformed one
// is refused with its reason (the TOML error's line) and the built-in
// manifest is used instead, which the console says.
func TestLoadManifest(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	os.WriteFile(good, []byte("[service.a]\nprogram = \"/bin/a\"\n"), 0o644)
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("[service.a]\nprogram = \"/bin/a\"\nrestart = \"sometimes\"\n"), 0o644)
	cyclic := filepath.Join(dir, "cyclic.toml")
	os.WriteFile(cyclic, []byte("[service.a]\nprogram = \"/bin/a\"\ndepends = [\"a\"]\n"), 0o644)
	tests := []struct {
		name    string
		path    string
		want    []string // the services
		console string   // a regular expression
	}{
		{"good", good, []string{"a"}, `^$`},
		{"missing", filepath.Join(dir, "none.toml"), manifest.Default().Names(),
			`^init: no .*none.toml\ninit: using the built-in manifest: \[pcid fsd netd console\]\n$`},
		{"malformed", bad, manifest.Default().Names(),
			`^init: manifest refused: .*bad.toml: toml: line 3 \(last key "service.a.restart"\): restart policy "sometimes" is not always, on-failure or never\ninit: using the built-in manifest: \[pcid fsd netd console\]\n$`},
		{"invalid", cyclic, manifest.Default().Names(), `^init: manifest refused: .*cyclic.toml: service "a" depends on itself\ninit: using the built-in manifest`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out lockedBuffer
			old := console
			console = &out
			defer func() { console = old }()
			m := loadManifest(tc.path)
			if diff := cmp.Diff(tc.want, m.Names()); diff != "" {
				t.Errorf("services (-want +got):\n%s", diff)
			}
			if !regexp.MustCompile(tc.console).MatchString(out.String()) {
				t.Errorf("console %q does not match %s", out.String(), tc.console)
			}
		})
	}
}

func TestNewConsoleState(t *testing.T) {
	sh := &manifest.Service{Name: "shell", Program: "/bin/sh", Args: []string{"-l"}, Console: true}
	tests := []struct {
		name string
		spec *manifest.Service
		cmd  consoleCommand
		want [3]any // name, path, argv
	}{
		{"the manifest's", sh, consoleCommand{}, [3]any{"shell", "/bin/sh", []string{"/bin/sh", "-l"}}},
		{"init= replaces it", sh, consoleCommand{"/bin/x", []string{"/bin/x", "a"}}, [3]any{"shell", "/bin/x", []string{"/bin/x", "a"}}},
		{"no console service", nil, consoleCommand{"/bin/x", []string{"/bin/x"}}, [3]any{"console", "/bin/x", []string{"/bin/x"}}},
		{"nothing at all", nil, consoleCommand{}, [3]any{"console", "", []string(nil)}},
	}
	for _, tc := range tests {
		c := newConsoleState(tc.spec, tc.cmd)
		if diff := cmp.Diff(tc.want, [3]any{c.name, c.path, c.argv}); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}
