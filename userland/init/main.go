package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"valence.dev/userland/init/manifest"
)

// manifestPath is the service manifest, read from the initfs (it is read
// before the root disk is mounted: the disk's fsd is one of its
// services).
const manifestPath = "/etc/init.toml"

func main() {
	keepConsole()
	cmd := parseArgs(os.Args)
	m := loadManifest(manifestPath)
	s := newSupervisor(m, cmd, parseRoot(os.Getenv))
	go s.reap()
	s.serveControl()
	os.Exit(s.run())
}

// loadManifest reads the manifest, or falls back to the built-in one
// (the services init always had), saying why.
func loadManifest(p string) *manifest.Manifest {
	data, err := os.ReadFile(p)
	if err == nil {
		var m *manifest.Manifest
		if m, err = manifest.Parse(p, data); err == nil {
			return m
		}
		logf("manifest refused: %v", err)
	} else if errors.Is(err, fs.ErrNotExist) {
		logf("no %s", p)
	} else {
		logf("cannot read %s: %v", p, err)
	}
	m := manifest.Default()
	logf("using the built-in manifest: %v", m.Names())
	return m
}

// logf writes one console line, "init: " first, in one write so that
// lines from other processes do not cut into it.
func logf(format string, args ...any) {
	console.Write([]byte("init: " + fmt.Sprintf(format, args...) + "\n"))
}
