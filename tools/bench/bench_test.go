package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
		want  map[string]sample
	}{
		{"ubench", []string{
			"bench: null-syscall min 1660.000 median 1666.000 ns/op (5 repetitions of 20000 operations)",
		}, map[string]sample{"null-syscall": {1660, 1666, "ns/op", 5}}},
		{"diskbench", []string{
			"bench: nvme-seq-1MiB-qd32 min 216.834 median 232.099 MiB/s (5 repetitions of 2 s)",
			"bench: nvme-rand-4KiB-qd1 min 357.443 median 478.495 IOPS (5 repetitions of 0.5 s)",
		}, map[string]sample{
			"nvme-seq-1MiB-qd32": {216.834, 232.099, "MiB/s", 5},
			"nvme-rand-4KiB-qd1": {357.443, 478.495, "IOPS", 5},
		}},
		{"failures and chatter are skipped", []string{
			"bench: nvme-seq-1MiB-qd1 FAILED: read of 1048576 bytes at 0: EIO",
			"diskbench: start",
			"pcid: nvmed (00:03.0) started: pid 9",
		}, map[string]sample{}},
	} {
		if diff := cmp.Diff(tc.want, parse(tc.lines), cmp.AllowUnexported(sample{})); diff != "" {
			t.Errorf("%s: parse (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		name   string
		vs, ls map[string]sample
		want   []figure
	}{
		{"disk rates are higher-better",
			map[string]sample{"nvme-rand-4KiB-qd1": {400, 500, "IOPS", 5}, "nvme-seq-1MiB-qd1": {100, 200, "MiB/s", 5}},
			map[string]sample{"nvme-rand-4KiB-qd1": {3000, 4000, "IOPS", 5}, "nvme-seq-1MiB-qd1": {1500, 2000, "MiB/s", 5}},
			[]figure{
				{Name: "nvme-rand-4KiB-qd1", Unit: "IOPS", Valence: 500, Linux: 4000, Ratio: 0.125, Repetitions: 5,
					ValenceMin: 400, LinuxMin: 3000, Min: 400, Median: 500, HigherBetter: true},
				{Name: "nvme-seq-1MiB-qd1", Unit: "MiB/s", Valence: 200, Linux: 2000, Ratio: 0.1, Repetitions: 5,
					ValenceMin: 100, LinuxMin: 1500, Min: 100, Median: 200, HigherBetter: true},
			}},
		{"ipc takes the fastest Linux mechanism",
			map[string]sample{"ipc-64B": {100, 150, "us/round-trip", 5}},
			map[string]sample{"ipc-64B/pipe": {250, 450, "us/round-trip", 5}, "ipc-64B/unix": {200, 300, "us/round-trip", 5}},
			[]figure{{Name: "ipc-64B", Unit: "us/round-trip", Valence: 150, Linux: 300, Ratio: 0.5, Repetitions: 5,
				ValenceMin: 100, LinuxMin: 200, Min: 100, Median: 150, LinuxNote: "unix"}}},
		{"missing or mismatched Linux figures stay empty",
			map[string]sample{"nvme-seq-1MiB-qd32": {1, 2, "MiB/s", 5}, "spawn-wait": {70, 116, "ms/op", 5}},
			map[string]sample{"nvme-seq-1MiB-qd32": {1, 2, "IOPS", 5}},
			[]figure{
				{Name: "nvme-seq-1MiB-qd32", Unit: "MiB/s", Valence: 2, Repetitions: 5, ValenceMin: 1, Min: 1, Median: 2, HigherBetter: true},
				{Name: "spawn-wait", Unit: "ms/op", Valence: 116, Repetitions: 5, ValenceMin: 70, Min: 70, Median: 116},
			}},
	} {
		if diff := cmp.Diff(tc.want, compare(tc.vs, tc.ls)); diff != "" {
			t.Errorf("%s: compare (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestRow(t *testing.T) {
	for _, tc := range []struct {
		f    figure
		want string
	}{
		{figure{Name: "nvme-seq-1MiB-qd1", Unit: "MiB/s", Valence: 200, ValenceMin: 100, Linux: 2000, LinuxMin: 1500, Ratio: 0.1, HigherBetter: true},
			"nvme-seq-1MiB-qd1            MiB/s               200.000 (100.000)    2000.000 (1500.000)    0.10*"},
		{figure{Name: "page-fault", Unit: "us/page", Valence: 4.44, ValenceMin: 4.41},
			"page-fault                   us/page                 4.440 (4.410)                      -        -"},
		{figure{Name: "fs-create-1KiB-fsync-x1000", Unit: "ms/file", Valence: 52, ValenceMin: 50, Linux: 4, LinuxMin: 3.5, Ratio: 13},
			"fs-create-1KiB-fsync-x1000   ms/file               52.000 (50.000)          4.000 (3.500)    13.00"},
		{figure{Name: "fs-seq-write-256MiB", Unit: "MiB/s", Valence: 0.17, ValenceMin: 0.16, Linux: 36, LinuxMin: 30, Ratio: 0.17 / 36, HigherBetter: true},
			"fs-seq-write-256MiB          MiB/s                   0.170 (0.160)        36.000 (30.000)   0.005*"},
	} {
		if diff := cmp.Diff(tc.want, row(tc.f)); diff != "" {
			t.Errorf("row (-want +got):\n%s", diff)
		}
	}
}

func TestParseOrder(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
		wantErr    bool
	}{
		{"fetch-linux.sh's", "crct10dif_common.ko\ncrc_t10dif.ko\nt10_pi.ko\nnvme_core.ko\nnvme.ko\n",
			[]string{"crct10dif_common.ko", "crc_t10dif.ko", "t10_pi.ko", "nvme_core.ko", "nvme.ko"}, false},
		{"blank lines and comments", "# deps first\n\nnvme_core.ko\n  nvme.ko  \n", []string{"nvme_core.ko", "nvme.ko"}, false},
		{"empty", "\n", nil, true},
		{"a path", "../nvme.ko\n", nil, true},
		{"compressed", "nvme.ko.xz\n", nil, true},
		{"twice", "nvme.ko\nnvme.ko\n", nil, true},
	} {
		got, err := parseOrder(tc.text)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: error %v, want error %v", tc.name, err, tc.wantErr)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: parseOrder (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestDiskImage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nvme.img")
	const size = 2 << 20
	if err := makeDiskImage(path, size); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []int{0, 1, 2047, 4095} {
		got := uint64(0)
		for i := 7; i >= 0; i-- {
			got = got<<8 | uint64(b[s*sector+i])
		}
		if diff := cmp.Diff(uint64(s)^patternMagic, got); diff != "" {
			t.Errorf("sector %d header (-want +got):\n%s", s, diff)
		}
	}
	if !imageReady(path, size) {
		t.Error("a fresh image is not ready")
	}
	if imageReady(path, 4<<20) {
		t.Error("an image of the wrong size is ready")
	}
	b[len(b)-sector] ^= 1
	os.WriteFile(path, b, 0o644)
	if imageReady(path, size) {
		t.Error("an image with a damaged last sector is ready")
	}
	if err := makeDiskImage(path, size); err != nil || !imageReady(path, size) {
		t.Errorf("rewriting a damaged image: %v", err)
	}
	if err := makeDiskImage(path, 1000); err == nil {
		t.Error("a size that is not whole MiB was accepted")
	}
}
