package qemu

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRoot(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "tests", "qemu", "doc.go")); err != nil {
		t.Errorf("Root() = %s, which does not hold this package: %v", root, err)
	}
}

func TestFindRoot(t *testing.T) {
	tmp := t.TempDir()
	repo := filepath.Join(tmp, "repo")
	deep := filepath.Join(repo, "a", "b", "c")
	orphan := filepath.Join(tmp, "orphan")
	for _, dir := range []string{deep, orphan, filepath.Join(repo, "a", "go.work")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(repo, "go.work"), []byte("go 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir, want string
		wantErr         bool
	}{
		{"at root", repo, repo, false},
		{"deep", deep, repo, false},
		{"go.work directory is not a go.work file", filepath.Join(repo, "a"), repo, false},
		{"none", orphan, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if above, err := findRoot(tmp); tc.wantErr && err == nil {
				t.Skipf("%s holds a go.work above the temporary directory", above)
			}
			got, err := findRoot(tc.dir)
			if (err != nil) != tc.wantErr {
				t.Fatalf("findRoot(%s) error = %v, want error: %v", tc.dir, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("findRoot(%s) = %q, want %q", tc.dir, got, tc.want)
			}
		})
	}
}
