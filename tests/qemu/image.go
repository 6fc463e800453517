package qemu

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Paths names the files of a boot image.
type Paths struct {
	Kernel string // the multiboot kernel, passed with -kernel
	Initfs string // the initial file system, the "initfs" module
	Syms   string // the kernel symbol table, the "ksym" module
}

// ImagePaths returns where `make image` puts the boot image of the
// repository rooted at root.
func ImagePaths(root string) Paths {
	dir := filepath.Join(root, "build", "image")
	return Paths{
		Kernel: filepath.Join(dir, "valence.mb"),
		Initfs: filepath.Join(dir, "initfs.tar"),
		Syms:   filepath.Join(dir, "kernel.sym"),
	}
}

// NoBuildEnv names the environment variable that, when true ("1", "true"),
// makes Image use the image already on disk instead of running make.
const NoBuildEnv = "VALENCE_NO_BUILD"

// image is the per-test-binary image builder used by Image.
var image builder

// Image builds the boot image, once per test binary, with
// `make -C <root> image` and returns its paths. The first caller pays for
// the build; later callers get the same result, including the same failure.
// With VALENCE_NO_BUILD=1 it only checks that the image exists.
func Image(t testing.TB) Paths {
	t.Helper()
	p, err := image.get(t)
	if err != nil {
		t.Fatalf("qemu: boot image: %v", err)
	}
	return p
}

// builder runs the image build at most once.
type builder struct {
	root string // repository root; empty means Root()

	once  sync.Once
	paths Paths
	err   error
}

func (b *builder) get(t testing.TB) (Paths, error) {
	t.Helper()
	b.once.Do(func() { b.paths, b.err = b.build(t) })
	return b.paths, b.err
}

func (b *builder) build(t testing.TB) (Paths, error) {
	t.Helper()
	root := b.root
	if root == "" {
		var err error
		if root, err = Root(); err != nil {
			return Paths{}, err
		}
	}
	p := ImagePaths(root)
	if skip, _ := strconv.ParseBool(os.Getenv(NoBuildEnv)); skip {
		t.Logf("qemu: %s is set; using the image already in %s", NoBuildEnv, filepath.Dir(p.Kernel))
	} else {
		start := time.Now()
		cmd := exec.Command("make", "-C", root, "image")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return Paths{}, fmt.Errorf("make -C %s image: %v\n%s", root, err, out)
		}
		t.Logf("qemu: make -C %s image took %v", root, time.Since(start).Round(time.Millisecond))
	}
	if err := p.exist(); err != nil {
		return Paths{}, fmt.Errorf("%w (build it with `make -C %s image`)", err, root)
	}
	return p, nil
}

// exist reports an error naming every file of p that is missing.
func (p Paths) exist() error {
	var errs []error
	for _, f := range p.files() {
		if _, err := os.Stat(f.path); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
		}
	}
	return errors.Join(errs...)
}

type namedPath struct{ name, path string }

func (p Paths) files() []namedPath {
	return []namedPath{{"kernel", p.Kernel}, {"initfs", p.Initfs}, {"symbols", p.Syms}}
}
