package qemu

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Makefiles for a pretend repository. Each run of the image target appends
// a line to build/runs, so a test can count builds.
const (
	goodMakefile = "image:\n" +
		"\tmkdir -p build/image\n" +
		"\techo run >> build/runs\n" +
		"\ttouch build/image/valence.mb build/image/initfs.tar build/image/kernel.sym\n"
	failingMakefile = "image:\n" +
		"\t@echo 'compile error: kernel/boot.s:12: bad things'\n" +
		"\t@exit 1\n"
	incompleteMakefile = "image:\n" +
		"\tmkdir -p build/image\n" +
		"\ttouch build/image/valence.mb\n"
)

func TestBuilder(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	tests := []struct {
		name     string
		makefile string
		prebuilt bool   // the image exists before the build
		noBuild  string // VALENCE_NO_BUILD
		wantErr  []string
		wantRuns int // how many times make ran the image target
	}{
		{name: "builds", makefile: goodMakefile, wantRuns: 1},
		{name: "make fails", makefile: failingMakefile, wantErr: []string{"make -C", "compile error: kernel/boot.s:12"}},
		{name: "make forgets files", makefile: incompleteMakefile, wantErr: []string{"initfs", "symbols", "make -C"}},
		{name: "no build", makefile: failingMakefile, prebuilt: true, noBuild: "1"},
		{name: "no build, no image", makefile: goodMakefile, noBuild: "true", wantErr: []string{"kernel", "initfs", "symbols"}},
		{name: "no build off", makefile: goodMakefile, noBuild: "0", wantRuns: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(NoBuildEnv, tc.noBuild)
			t.Setenv("MAKEFLAGS", "")
			root := t.TempDir()
			write(t, filepath.Join(root, "Makefile"), tc.makefile)
			want := ImagePaths(root)
			if tc.prebuilt {
				for _, f := range want.files() {
					write(t, f.path, "")
				}
			}
			b := &builder{root: root}
			for range 2 { // the second call must not build again
				got, err := b.get(t)
				if len(tc.wantErr) > 0 {
					if err == nil {
						t.Fatalf("get() = %+v, want an error", got)
					}
					for _, w := range tc.wantErr {
						if !strings.Contains(err.Error(), w) {
							t.Errorf("get() error %q does not mention %q", err, w)
						}
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("paths mismatch (-want +got):\n%s", diff)
				}
			}
			runs, _ := os.ReadFile(filepath.Join(root, "build", "runs"))
			if got := strings.Count(string(runs), "run"); got != tc.wantRuns {
				t.Errorf("make ran the image target %d times, want %d", got, tc.wantRuns)
			}
		})
	}
}

func TestImagePaths(t *testing.T) {
	want := Paths{
		Kernel: "/src/valence/build/image/valence.mb",
		Initfs: "/src/valence/build/image/initfs.tar",
		Syms:   "/src/valence/build/image/kernel.sym",
	}
	if diff := cmp.Diff(want, ImagePaths("/src/valence")); diff != "" {
		t.Errorf("ImagePaths mismatch (-want +got):\n%s", diff)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
