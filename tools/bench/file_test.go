package main

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"valence.dev/servers/fs/blockdev"
	vfs "valence.dev/servers/fs/fs"
)

func TestPlanFile(t *testing.T) {
	type in struct {
		quick                  bool
		set                    []string
		files, stat, seq, rand int
		secs                   float64
		reps, seqReps, disk    int
	}
	def := in{files: 1000, stat: 10000, seq: 256, rand: 64, secs: 2, reps: 3, seqReps: 1}
	for _, tc := range []struct {
		name    string
		in      func(in) in
		want    filePlan
		wantErr bool
	}{
		{"the defaults: the issue's sizes", func(i in) in { return i },
			filePlan{Files: 1000, StatFiles: 10000, SeqMiB: 256, RandMiB: 64, Seconds: 2, Reps: 3, SeqReps: 1, DiskMiB: 1024}, false},
		{"quick", func(i in) in { i.quick = true; return i },
			filePlan{Files: 1000, StatFiles: 10000, SeqMiB: 32, RandMiB: 16, Seconds: 2, Reps: 3, SeqReps: 1, DiskMiB: 1024, Quick: true}, false},
		{"quick, with a size given", func(i in) in { i.quick, i.set, i.seq = true, []string{"file-mib"}, 8; return i },
			filePlan{Files: 1000, StatFiles: 10000, SeqMiB: 8, RandMiB: 16, Seconds: 2, Reps: 3, SeqReps: 1, DiskMiB: 1024, Quick: true}, false},
		{"seq reps 0: as many as the others", func(i in) in { i.seqReps = 0; return i },
			filePlan{Files: 1000, StatFiles: 10000, SeqMiB: 256, RandMiB: 64, Seconds: 2, Reps: 3, SeqReps: 3, DiskMiB: 1024}, false},
		{"a big file grows the disks", func(i in) in { i.seq = 1024; return i },
			filePlan{Files: 1000, StatFiles: 10000, SeqMiB: 1024, RandMiB: 64, Seconds: 2, Reps: 3, SeqReps: 1, DiskMiB: 2368}, false},
		{"a disk given", func(i in) in { i.disk = 4096; return i },
			filePlan{Files: 1000, StatFiles: 10000, SeqMiB: 256, RandMiB: 64, Seconds: 2, Reps: 3, SeqReps: 1, DiskMiB: 4096}, false},
		{"a disk too small", func(i in) in { i.disk = 512; return i }, filePlan{}, true},
		{"no files", func(i in) in { i.files = 0; return i }, filePlan{}, true},
		{"no seconds", func(i in) in { i.secs = 0; return i }, filePlan{}, true},
		{"no repetitions", func(i in) in { i.reps = 0; return i }, filePlan{}, true},
	} {
		i := tc.in(def)
		set := map[string]bool{}
		for _, s := range i.set {
			set[s] = true
		}
		got, err := planFile(i.quick, set, i.files, i.stat, i.seq, i.rand, i.secs, i.reps, i.seqReps, i.disk)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: error %v, want error %v", tc.name, err, tc.wantErr)
			continue
		}
		if err == nil {
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: plan (-want +got):\n%s", tc.name, diff)
			}
		}
	}
}

func TestFileDiskMiB(t *testing.T) {
	for _, tc := range []struct{ seq, rand, want int }{
		{256, 64, 1024}, {1, 1, 1024}, {400, 64, 1152}, {401, 64, 1152}, {449, 64, 1280},
	} {
		if got := fileDiskMiB(tc.seq, tc.rand); got != tc.want {
			t.Errorf("fileDiskMiB(%d, %d) = %d, want %d", tc.seq, tc.rand, got, tc.want)
		}
	}
}

func TestPlanArgs(t *testing.T) {
	p := filePlan{Files: 1000, StatFiles: 10000, SeqMiB: 32, RandMiB: 16, Seconds: 0.5, Reps: 3, SeqReps: 1, DiskMiB: 1024}
	want := "-files=1000 -stat-files=10000 -seq-mib=32 -rand-mib=16 -seconds=0.5 -reps=3 -seq-reps=1"
	if got := strings.Join(p.args(), " "); got != want {
		t.Errorf("args = %q, want %q", got, want)
	}
	for _, a := range p.args() {
		// The kernel command line: each argument one word, "-name=value".
		if strings.ContainsAny(a, " \t\"") || !strings.HasPrefix(a, "-") || !strings.Contains(a, "=") {
			t.Errorf("argument %q does not survive a kernel command line", a)
		}
	}
}

func TestModuleEntriesMerged(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"order": "nvme_core.ko\nnvme.ko\n", "ext4.order": "crc16.ko\nnvme_core.ko\next4.ko\n",
		"nvme_core.ko": "a", "nvme.ko": "b", "crc16.ko": "c", "ext4.ko": "d",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	es, err := moduleEntries(dir, "order", "ext4.order")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	files := map[string]string{}
	for _, e := range es {
		names = append(names, e.name)
		files[e.name] = string(e.data)
	}
	want := []string{"lib", "lib/modules", "lib/modules/order", "lib/modules/nvme_core.ko", "lib/modules/nvme.ko",
		"lib/modules/crc16.ko", "lib/modules/ext4.ko"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if got := files["lib/modules/order"]; got != "nvme_core.ko\nnvme.ko\ncrc16.ko\next4.ko\n" {
		t.Errorf("order = %q", got)
	}
	if _, err := moduleEntries(dir, "order", "missing.order"); err == nil {
		t.Error("a missing order file was accepted")
	}
}

func TestValfsImage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "valfs.img")
	os.WriteFile(path, []byte("old contents"), 0o644)
	if err := makeValfsImage(path, 64); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Size() != 64<<20 {
		t.Fatalf("image: %v, %v", st, err)
	}
	dev, err := blockdev.OpenFile(path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	f, err := vfs.Mount(dev, vfs.Options{})
	if err != nil {
		t.Fatalf("mount: %v", err)
	}
	if err := f.Unmount(); err != nil {
		t.Error(err)
	}
}

func TestExt4Image(t *testing.T) {
	mkfs, err := mkfsExt4Path("")
	if err != nil {
		t.Skip(err)
	}
	path := filepath.Join(t.TempDir(), "ext4.img")
	if err := makeExt4Image(mkfs, path, 64); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 2048)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	// The superblock is at byte 1024: s_blocks_count_lo at 4,
	// s_log_block_size at 24, s_magic at 56.
	if m := binary.LittleEndian.Uint16(b[1024+56:]); m != 0xef53 {
		t.Errorf("superblock magic %#x, want 0xef53", m)
	}
	blocks, bs := binary.LittleEndian.Uint32(b[1024+4:]), uint32(1024)<<binary.LittleEndian.Uint32(b[1024+24:])
	if blocks*bs != 64<<20 {
		t.Errorf("%d blocks of %d bytes, want 64 MiB", blocks, bs)
	}
	if fsck := filepath.Join(filepath.Dir(mkfs), "e2fsck"); fileExists(fsck) {
		if out, err := exec.Command(fsck, "-fn", path).CombinedOutput(); err != nil {
			t.Errorf("e2fsck -fn: %v\n%s", err, out)
		}
	}
	if _, err := mkfsExt4Path("/no/such/mkfs"); err != nil {
		t.Errorf("an explicit path is taken as given: %v", err)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
