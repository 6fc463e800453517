package qemu

import (
	"fmt"
	"os"
	"path/filepath"
)

// Root returns the root of the Valence repository: the nearest directory at
// or above the working directory that contains a go.work file.
func Root() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the repository root: %w", err)
	}
	return findRoot(wd)
}

// findRoot walks up from dir to the first directory that holds go.work.
func findRoot(dir string) (string, error) {
	start := dir
	for {
		if fi, err := os.Stat(filepath.Join(dir, "go.work")); err == nil && !fi.IsDir() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.work in %s or any directory above it", start)
		}
		dir = parent
	}
}
