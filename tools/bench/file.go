package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"valence.dev/servers/fs/hostcopy"
)

// The file boots: each kernel once more with a filesystem on the NVMe
// disk, running userland/filebench. Valence's disk holds a fresh Valence
// filesystem (made here with hostcopy, as `valfs mkfs` does), which
// /bin/init mounts at "/" (root=nvme0) before it runs filebench as
// init; Linux's holds a fresh ext4 (made here with the host's mkfs.ext4),
// which filebench mounts on /mnt after loading the NVMe and ext4 modules.
// Both disks are the same size, made anew for every run.

// filePlan is what filebench measures: the sizes are in the figures'
// names, so both kernels must get the same plan.
type filePlan struct {
	Files     int     `json:"files"`      // create+write 1 KiB+fsync: files per repetition
	StatFiles int     `json:"stat_files"` // stat: files
	SeqMiB    int     `json:"seq_mib"`    // sequential write and read: file size
	RandMiB   int     `json:"rand_mib"`   // random 4 KiB reads: file size
	Seconds   float64 `json:"seconds"`    // random reads: seconds per repetition
	Reps      int     `json:"reps"`       // repetitions of each workload
	SeqReps   int     `json:"seq_reps"`   // of the sequential pair
	DiskMiB   int     `json:"disk_mib"`   // both disks' size
	Quick     bool    `json:"quick,omitempty"`
}

// quickPlan is what -file-quick changes: the sequential and random-read
// files, which Valence writes slowly under TCG (about 3 s per MiB in
// December 2026), made small enough for a run of minutes.
var quickPlan = map[string]int{"file-mib": 32, "file-rand-mib": 16}

// planFile is the plan from the flags' values, with -file-quick's sizes
// for the flags not set explicitly (set names those that were).
func planFile(quick bool, set map[string]bool, files, statFiles, seqMiB, randMiB int, seconds float64, reps, seqReps, diskMiB int) (filePlan, error) {
	p := filePlan{Files: files, StatFiles: statFiles, SeqMiB: seqMiB, RandMiB: randMiB, Seconds: seconds,
		Reps: reps, SeqReps: seqReps, DiskMiB: diskMiB, Quick: quick}
	if quick {
		if !set["file-mib"] {
			p.SeqMiB = quickPlan["file-mib"]
		}
		if !set["file-rand-mib"] {
			p.RandMiB = quickPlan["file-rand-mib"]
		}
	}
	if p.SeqReps == 0 {
		p.SeqReps = p.Reps
	}
	if p.Files < 1 || p.StatFiles < 1 || p.SeqMiB < 1 || p.RandMiB < 1 || p.Seconds <= 0 || p.Reps < 1 || p.SeqReps < 1 {
		return p, fmt.Errorf("file benchmark sizes, counts, seconds and repetitions must be positive: %+v", p)
	}
	need := fileDiskMiB(p.SeqMiB, p.RandMiB)
	if p.DiskMiB == 0 {
		p.DiskMiB = need
	} else if p.DiskMiB < need {
		return p, fmt.Errorf("-file-disk-mib %d is too small for these files: at least %d", p.DiskMiB, need)
	}
	return p, nil
}

// fileDiskMiB is the disk both filesystems get: room for the sequential
// file twice (a copy-on-write filesystem may hold the old one until its
// space is reused), the random-read file, the small files and metadata
// (256 MiB), at least 1 GiB, in whole 64 MiB.
func fileDiskMiB(seqMiB, randMiB int) int {
	n := max(1024, 2*seqMiB+randMiB+256)
	return (n + 63) / 64 * 64
}

// args are filebench's arguments for p (its defaults are the issue's
// sizes; these are always given, so both kernels surely run the same).
func (p filePlan) args() []string {
	return []string{
		"-files=" + strconv.Itoa(p.Files),
		"-stat-files=" + strconv.Itoa(p.StatFiles),
		"-seq-mib=" + strconv.Itoa(p.SeqMiB),
		"-rand-mib=" + strconv.Itoa(p.RandMiB),
		"-seconds=" + strconv.FormatFloat(p.Seconds, 'f', -1, 64),
		"-reps=" + strconv.Itoa(p.Reps),
		"-seq-reps=" + strconv.Itoa(p.SeqReps),
	}
}

// String is p for the report.
func (p filePlan) String() string {
	return fmt.Sprintf("%d x 1 KiB files with fsync, stat of %d files, %d repetitions each; %d MiB sequential, %d repetition(s); 4 KiB random reads of a %d MiB file, %d x %s s; %d MiB disks",
		p.Files, p.StatFiles, p.Reps, p.SeqMiB, p.SeqReps, p.RandMiB, p.Reps, strconv.FormatFloat(p.Seconds, 'f', -1, 64), p.DiskMiB)
}

// setFlags names the flags given on the command line.
func setFlags() map[string]bool {
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// makeValfsImage writes a fresh, empty Valence filesystem of mib MiB.
func makeValfsImage(path string, mib int) error {
	os.Remove(path)
	var warn strings.Builder
	if err := hostcopy.Create(path, uint64(mib)<<20, "", &warn); err != nil {
		return fmt.Errorf("valfs mkfs %s: %w", path, err)
	}
	return nil
}

// mkfsExt4Path finds mkfs.ext4: the flag, then PATH, then the sbin
// directories a user's PATH may lack.
func mkfsExt4Path(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if p, err := exec.LookPath("mkfs.ext4"); err == nil {
		return p, nil
	}
	for _, d := range []string{"/sbin", "/usr/sbin"} {
		p := filepath.Join(d, "mkfs.ext4")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", errors.New("no mkfs.ext4 on this host: install e2fsprogs (apt-get install e2fsprogs), or skip the file rows with -file=false")
}

// mkfsExt4Args formats image as ext4 with the host's defaults, with the
// inode tables and journal written now rather than by the guest's kernel
// in the background (ext4lazyinit would run during the measurements).
func mkfsExt4Args(image string) []string {
	return []string{"-q", "-F", "-t", "ext4", "-E", "lazy_itable_init=0,lazy_journal_init=0", "-L", "filebench", image}
}

// makeExt4Image writes a fresh ext4 filesystem of mib MiB.
func makeExt4Image(mkfs, path string, mib int) error {
	os.Remove(path)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := f.Truncate(int64(mib) << 20); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	out, err := exec.Command(mkfs, mkfsExt4Args(path)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v\n%s", mkfs, strings.Join(mkfsExt4Args(path), " "), err, out)
	}
	return nil
}

// fileBoots boots each kernel once with its filesystem on the NVMe disk
// and filebench as init, and returns the "bench:" lines of each.
func fileBoots(p filePlan) (valence, linux []string, err error) {
	dir := filepath.Dir(*out)
	mkfs, err := mkfsExt4Path(*mkfsExt4)
	if err != nil {
		return nil, nil, err
	}
	vimg, limg := filepath.Join(dir, "bench-valfs.img"), filepath.Join(dir, "bench-ext4.img")
	if err := makeValfsImage(vimg, p.DiskMiB); err != nil {
		return nil, nil, err
	}
	if err := makeExt4Image(mkfs, limg, p.DiskMiB); err != nil {
		return nil, nil, err
	}
	mods := *linuxMods
	if mods == "" {
		mods = filepath.Join(filepath.Dir(*linuxKernel), "modules")
	}
	extra, err := moduleEntries(mods, "order", "ext4.order")
	if err != nil {
		return nil, nil, fmt.Errorf("linux modules (scripts/fetch-linux.sh puts them in %s): %w", mods, err)
	}
	initrd, err := buildInitramfs(*filebench, extra)
	if err != nil {
		return nil, nil, err
	}
	args := " -- " + strings.Join(p.args(), " ")
	valenceArgs := append([]string{"-kernel", filepath.Join(*imageDir, "valence.mb"),
		"-initrd", filepath.Join(*imageDir, "initfs.tar") + " initfs," + filepath.Join(*imageDir, "kernel.sym") + " ksym",
		"-append", "root=nvme0 init=/bin/filebench" + args}, diskDevices(vimg)...)
	linuxArgs := append([]string{"-kernel", *linuxKernel, "-initrd", initrd,
		"-append", "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init intel_iommu=" + *linuxIOMMU + args}, diskDevices(limg)...)
	fmt.Fprintf(os.Stderr, "bench: file boot of Valence (%s)\n", p)
	r, err := boot(valenceArgs, "filebench: start", *fileTimeout)
	if err != nil {
		return nil, nil, fmt.Errorf("valence file: %w", err)
	}
	valence = r.lines
	fmt.Fprintf(os.Stderr, "bench: file boot of Linux %s (intel_iommu=%s)\n", *linuxName, *linuxIOMMU)
	r, err = boot(linuxArgs, "filebench: start", *fileTimeout)
	if err != nil {
		return nil, nil, fmt.Errorf("linux file: %w", err)
	}
	return valence, r.lines, nil
}
