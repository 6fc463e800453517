package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/drivers/pci/pci"
)

// shipped is where the image's manifests are, from this package.
const shipped = "../../../../images/default/etc/drivers"

func TestShippedManifests(t *testing.T) {
	var logs []string
	ms := loadManifests(shipped, func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) })
	if len(logs) != 0 {
		t.Errorf("shipped manifests logged %q", logs)
	}
	tests := []struct {
		f    pci.Function
		want string // the driver's path, "" for none
	}{
		{pci.Function{Vendor: 0x1b36, Device: 0x0010, Class: 1, Subclass: 8, ProgIF: 2}, "/bin/nvmed"},
		{pci.Function{Vendor: 0x144d, Device: 0xa808, Class: 1, Subclass: 8, ProgIF: 2}, "/bin/nvmed"},
		{pci.Function{Vendor: 0x1af4, Device: 0x1041, Class: 2}, "/bin/virtio-netd"},
		{pci.Function{Vendor: 0x1af4, Device: 0x1042, Class: 1}, "/bin/virtio-blkd"},
		{pci.Function{Vendor: 0x1234, Device: 0x11e8, Class: 0xff}, "/bin/edud"},
		{pci.Function{Vendor: 0x1af4, Device: 0x1000, Class: 2}, ""}, // legacy virtio-net
		{pci.Function{Vendor: 0x8086, Device: 0x29c0, Class: 6}, ""},
		{pci.Function{Vendor: 0x1b36, Device: 0x0011, Class: 1, Subclass: 8, ProgIF: 3}, ""},
	}
	for _, tt := range tests {
		got := ""
		if m, ok := pci.Match(ms, &tt.f); ok {
			got = m.Driver.Path
		}
		if got != tt.want {
			t.Errorf("%04x:%04x class %02x%02x%02x: driver %q, want %q", tt.f.Vendor, tt.f.Device, tt.f.Class, tt.f.Subclass, tt.f.ProgIF, got, tt.want)
		}
	}
}

func TestLoadManifestsSkipsBadOnes(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a-good.toml":   "[driver]\nname = \"edud\"\npath = \"/bin/edud\"\n[[match]]\nvendor = 0x1234\ndevice = 0x11e8\n",
		"b-typo.toml":   "[driver]\nname = \"x\"\npath = \"/bin/x\"\n[[match]]\nvendr = 1\ndevice = 2\n",
		"c-broken.toml": "[driver\n",
		"d-huge.toml":   strings.Repeat("#", maxManifest+1),
		"e-ignored.txt": "not a manifest",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var logs []string
	ms := loadManifests(dir, func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) })
	if len(ms) != 1 || ms[0].Driver.Name != "edud" {
		t.Errorf("loaded %d manifests, want only a-good.toml", len(ms))
	}
	var skipped []string
	for _, l := range logs {
		skipped = append(skipped, strings.Fields(l)[1])
	}
	want := []string{filepath.Join(dir, "b-typo.toml"), filepath.Join(dir, "c-broken.toml"), filepath.Join(dir, "d-huge.toml")}
	if diff := cmp.Diff(want, skipped); diff != "" {
		t.Errorf("skipped (-want +got)\n%s\nlogs: %q", diff, logs)
	}
	for _, l := range logs {
		if !strings.Contains(l, " skipped: ") {
			t.Errorf("log line %q gives no reason", l)
		}
	}
	logs = nil
	if ms := loadManifests(filepath.Join(dir, "none"), func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }); len(ms) != 0 || len(logs) != 1 {
		t.Errorf("missing directory: %d manifests, logs %q", len(ms), logs)
	}
}

func TestDescribeExit(t *testing.T) {
	tests := []struct {
		st   syscall.WaitStatus
		want string
	}{
		{0, "exit status 0"},
		{3 << 8, "exit status 3"},
		{syscall.WaitStatus(syscall.SIGKILL), "killed by SIGKILL"},
		{syscall.WaitStatus(syscall.SIGSEGV), "killed by SIGSEGV"},
		{syscall.WaitStatus(syscall.SIGUSR1), "killed by signal 10"},
	}
	for _, tt := range tests {
		if got := describeExit(tt.st); got != tt.want {
			t.Errorf("describeExit(%#x) = %q, want %q", uint32(tt.st), got, tt.want)
		}
	}
}
