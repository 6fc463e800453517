package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

var (
	qemu        = flag.String("qemu", envOr("QEMU", "qemu-system-x86_64"), "QEMU binary")
	accel       = flag.String("accel", envOr("ACCEL", "tcg"), "tcg or kvm")
	mem         = flag.Int("mem", 1024, "guest memory in MiB")
	imageDir    = flag.String("image", "build/image", "Valence image directory (make image)")
	linuxKernel = flag.String("linux", "build/linux/vmlinuz", "Linux kernel (scripts/fetch-linux.sh)")
	linuxName   = flag.String("linux-version", "", "Linux kernel version, for the report")
	ubench      = flag.String("ubench", "build/userland/ubench", "the benchmark program")
	diskbench   = flag.String("diskbench", "build/userland/diskbench", "the disk benchmark program")
	disk        = flag.Bool("disk", true, "also boot each kernel once with an NVMe disk and run diskbench")
	diskMiB     = flag.Int("disk-mib", 256, "size of the NVMe disk image")
	diskSeconds = flag.Float64("disk-seconds", 2, "seconds per repetition of each disk workload")
	linuxMods   = flag.String("linux-modules", "", "the Linux NVMe modules and their order file (default: modules/ beside -linux)")
	linuxIOMMU  = flag.String("linux-iommu", "on", "intel_iommu= for the Linux guest's disk boot (Valence always uses the IOMMU)")
	boots       = flag.Int("boots", 3, "boots per kernel running ubench (0: only the disk boots)")
	out         = flag.String("out", "build/bench.json", "JSON report")
	timeout     = flag.Duration("timeout", 10*time.Minute, "limit for one boot")

	filebench   = flag.String("filebench", "build/userland/filebench", "the file benchmark program")
	file        = flag.Bool("file", true, "also boot each kernel once with a filesystem on an NVMe disk and run filebench")
	fileQuick   = flag.Bool("file-quick", false, "smaller sequential and random-read files (32 and 16 MiB; Valence writes files at well under 1 MiB/s under TCG); -file-mib and -file-rand-mib given explicitly win")
	fileCount   = flag.Int("file-count", 1000, "filebench: files created, written with 1 KiB and fsynced per repetition")
	fileStat    = flag.Int("file-stat", 10000, "filebench: files stat'ed per repetition")
	fileMiB     = flag.Int("file-mib", 256, "filebench: size of the file written and read sequentially")
	fileRandMiB = flag.Int("file-rand-mib", 64, "filebench: size of the file read at random")
	fileSeconds = flag.Float64("file-seconds", 2, "filebench: seconds per repetition of the random reads")
	fileReps    = flag.Int("file-reps", 3, "filebench: repetitions of each workload")
	fileSeqReps = flag.Int("file-seq-reps", 1, "filebench: repetitions of the sequential write and read (0: -file-reps)")
	fileDisk    = flag.Int("file-disk-mib", 0, "filebench: size of both disks (0: enough for the files, at least 1024)")
	fileTimeout = flag.Duration("file-timeout", 3*time.Hour, "limit for one file boot")
	mkfsExt4    = flag.String("mkfs-ext4", "", "mkfs.ext4 for the Linux disk (default: from PATH, /sbin or /usr/sbin)")

	netbench   = flag.String("netbench", "build/userland/netbench", "the network benchmark program")
	netOn      = flag.Bool("net", true, "also boot each kernel with a virtio-net NIC and drive userland/netbench from the host")
	netSeconds = flag.Float64("net-seconds", 2, "network: seconds per repetition of each workload")
	netReps    = flag.Int("net-reps", 3, "network: repetitions of each workload")
	netClients = flag.Int("net-clients", 4, "network: concurrent clients of the HTTP and connect workloads")
	netTap     = flag.String("net-tap", "auto", "network: also on a TAP device in a private namespace (needs root, /dev/net/tun, ip): auto, on or off")
)

func envOr(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// machine is the QEMU configuration both kernels get.
func machine() []string {
	a := []string{"-M", "q35", "-m", strconv.Itoa(*mem), "-smp", "1", "-display", "none", "-no-reboot",
		"-action", "reboot=shutdown", "-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con",
		"-monitor", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"}
	if *accel == "kvm" {
		return append(a, "-accel", "kvm", "-cpu", "host")
	}
	return append(a, "-accel", "tcg", "-cpu", "max")
}

// diskDevices are what the disk boots add to machine(), for both kernels:
// the IOMMU (Valence's tests attach it before the PCI devices, and its
// drivers' DMA goes through it) and the NVMe disk.
func diskDevices(image string) []string {
	return []string{"-device", "intel-iommu,intremap=off",
		"-drive", "file=" + image + ",if=none,id=nvm,format=raw",
		"-device", "nvme,serial=valence-bench,drive=nvm"}
}

type bootResult struct {
	firstLine time.Duration
	lines     []string
}

// boot runs one guest to completion, killing it after limit, and
// collects the benchmark's output; the time to the line containing marker
// ("<program>: start") is firstLine.
func boot(args []string, marker string, limit time.Duration) (bootResult, error) {
	var r bootResult
	cmd := exec.Command(*qemu, append(machine(), args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return r, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return r, err
	}
	timer := time.AfterFunc(limit, func() { cmd.Process.Kill() })
	prog := strings.TrimSuffix(marker, "start") // "diskbench: "
	defer timer.Stop()
	sc := bufio.NewScanner(stdout)
	var all []string
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		all = append(all, line)
		if i := strings.Index(line, marker); i >= 0 && r.firstLine == 0 {
			r.firstLine = time.Since(start)
		}
		if strings.HasPrefix(line, "bench: ") {
			r.lines = append(r.lines, line)
		}
		// What was measured and how; for the file boots also how
		// Valence's root disk was mounted.
		if (prog != "ubench: " && strings.HasPrefix(line, prog)) || strings.Contains(line, "FAILED") ||
			(prog == "filebench: " && strings.HasPrefix(line, "init: ")) {
			fmt.Fprintln(os.Stderr, "  "+line)
		}
	}
	io.Copy(io.Discard, stdout)
	err = cmd.Wait()
	if done := strings.Replace(marker, ": start", ": done", 1); !slices.Contains(all, done) && r.firstLine != 0 {
		fmt.Fprintf(os.Stderr, "bench: warning: no %q line (%v): the figures are partial\n", done, err)
	}
	if r.firstLine == 0 || len(r.lines) == 0 {
		if killed := time.Since(start) >= limit; killed {
			err = fmt.Errorf("%v, killed after %v", err, limit)
		}
		tail := all
		if len(tail) > 30 {
			tail = tail[len(tail)-30:]
		}
		return r, fmt.Errorf("no benchmark output (%v); console:\n%s\n%s", err, strings.Join(tail, "\n"), stderr.String())
	}
	return r, nil
}

// figure is one row of the report.
type figure struct {
	Name        string  `json:"figure"`
	Unit        string  `json:"unit"`
	Valence     float64 `json:"valence"` // median
	Linux       float64 `json:"linux"`   // median
	Ratio       float64 `json:"ratio"`   // Valence / Linux
	Repetitions int     `json:"repetitions"`
	ValenceMin  float64 `json:"valence_min"`
	LinuxMin    float64 `json:"linux_min"`
	Min         float64 `json:"min"`    // Valence min
	Median      float64 `json:"median"` // Valence median
	LinuxNote   string  `json:"linux_note,omitempty"`
	// HigherBetter marks rates (MiB/s, IOPS, req/s, conn/s): a ratio above 1
	// favours Valence. For the other figures (times) lower is better.
	HigherBetter bool `json:"higher_is_better,omitempty"`
	// ValenceMissing marks a figure Linux has and Valence does not (its
	// workload failed, as the bench's stderr says).
	ValenceMissing bool `json:"valence_missing,omitempty"`
}

var benchLine = regexp.MustCompile(`^bench: (\S+) min ([0-9.]+) median ([0-9.]+) (\S+) \((\d+) repetitions`)

type sample struct {
	min, median float64
	unit        string
	reps        int
}

func parse(lines []string) map[string]sample {
	m := map[string]sample{}
	for _, l := range lines {
		g := benchLine.FindStringSubmatch(l)
		if g == nil {
			continue
		}
		min, _ := strconv.ParseFloat(g[2], 64)
		med, _ := strconv.ParseFloat(g[3], 64)
		reps, _ := strconv.Atoi(g[5])
		m[g[1]] = sample{min, med, g[4], reps}
	}
	return m
}

func minMedian(ds []time.Duration) (float64, float64) {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return float64(ds[0].Microseconds()) / 1e3, float64(ds[len(ds)/2].Microseconds()) / 1e3
}

func run() error {
	var plan filePlan
	if *file {
		// Checked before any boot: a bad plan should not cost the others.
		var err error
		if plan, err = planFile(*fileQuick, setFlags(), *fileCount, *fileStat, *fileMiB, *fileRandMiB,
			*fileSeconds, *fileReps, *fileSeqReps, *fileDisk); err != nil {
			return err
		}
		if _, err := mkfsExt4Path(*mkfsExt4); err != nil {
			return err
		}
	}
	var nplan netPlan
	if *netOn {
		var err error
		if nplan, err = planNet(*netSeconds, *netReps, *netClients, *netTap); err != nil {
			return err
		}
	}
	initrd, err := buildInitramfs(*ubench, nil)
	if err != nil {
		return err
	}
	valenceArgs := []string{"-kernel", filepath.Join(*imageDir, "valence.mb"),
		"-initrd", filepath.Join(*imageDir, "initfs.tar") + " initfs," + filepath.Join(*imageDir, "kernel.sym") + " ksym",
		"-append", "init=/bin/ubench"}
	linuxArgs := []string{"-kernel", *linuxKernel, "-initrd", initrd,
		"-append", "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init"}
	var vb, lb []time.Duration
	var vlast, llast bootResult
	for i := 0; i < *boots; i++ {
		fmt.Fprintf(os.Stderr, "bench: boot %d/%d of Valence\n", i+1, *boots)
		r, err := boot(valenceArgs, "ubench: start", *timeout)
		if err != nil {
			return fmt.Errorf("valence: %w", err)
		}
		vb, vlast = append(vb, r.firstLine), r
		fmt.Fprintf(os.Stderr, "bench: boot %d/%d of Linux %s\n", i+1, *boots, *linuxName)
		r, err = boot(linuxArgs, "ubench: start", *timeout)
		if err != nil {
			return fmt.Errorf("linux: %w", err)
		}
		lb, llast = append(lb, r.firstLine), r
	}
	vlines, llines := vlast.lines, llast.lines
	if *disk {
		v, l, err := diskBoots()
		if err != nil {
			return err
		}
		vlines, llines = append(vlines, v...), append(llines, l...)
	}
	if *netOn {
		v, l, err := netBoots(nplan)
		if err != nil {
			return err
		}
		vlines, llines = append(vlines, v...), append(llines, l...)
	}
	if *file {
		v, l, err := fileBoots(plan)
		if err != nil {
			return err
		}
		vlines, llines = append(vlines, v...), append(llines, l...)
	}
	var figs []figure
	if *boots > 0 {
		vmin, vmed := minMedian(vb)
		lmin, lmed := minMedian(lb)
		figs = append(figs, figure{Name: "launch-to-first-line", Unit: "ms", Valence: vmed, Linux: lmed,
			Repetitions: *boots, ValenceMin: vmin, LinuxMin: lmin, Min: vmin, Median: vmed, Ratio: vmed / lmed})
	}
	figs = append(figs, compare(parse(vlines), parse(llines))...)
	report(figs, plan, nplan)
	doc := map[string]any{
		"date": time.Now().UTC().Format(time.RFC3339), "accel": *accel, "memory_mib": *mem,
		"linux_kernel": *linuxName, "linux_disk_iommu": *linuxIOMMU, "disk_mib": *diskMiB,
		"figures": figs}
	if *file {
		doc["file"] = plan
	}
	if *netOn {
		doc["net"] = nplan
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(*out, append(b, '\n'), 0o644)
}

// diskBoots boots each kernel once with the NVMe disk and diskbench as
// its first process, and returns the "bench:" lines of each.
func diskBoots() (valence, linux []string, err error) {
	image := filepath.Join(filepath.Dir(*out), "bench-nvme.img")
	if err := makeDiskImage(image, int64(*diskMiB)<<20); err != nil {
		return nil, nil, fmt.Errorf("disk image: %w", err)
	}
	mods := *linuxMods
	if mods == "" {
		mods = filepath.Join(filepath.Dir(*linuxKernel), "modules")
	}
	extra, err := moduleEntries(mods, "order")
	if err != nil {
		return nil, nil, fmt.Errorf("linux modules (scripts/fetch-linux.sh puts them in %s): %w", mods, err)
	}
	initrd, err := buildInitramfs(*diskbench, extra)
	if err != nil {
		return nil, nil, err
	}
	env := "DISKBENCH_SECONDS=" + strconv.FormatFloat(*diskSeconds, 'f', -1, 64)
	devs := diskDevices(image)
	valenceArgs := append([]string{"-kernel", filepath.Join(*imageDir, "valence.mb"),
		"-initrd", filepath.Join(*imageDir, "initfs.tar") + " initfs," + filepath.Join(*imageDir, "kernel.sym") + " ksym",
		"-append", "init=/bin/diskbench " + env}, devs...)
	linuxArgs := append([]string{"-kernel", *linuxKernel, "-initrd", initrd,
		"-append", "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init intel_iommu=" + *linuxIOMMU + " " + env}, devs...)
	fmt.Fprintf(os.Stderr, "bench: disk boot of Valence\n")
	r, err := boot(valenceArgs, "diskbench: start", *timeout)
	if err != nil {
		return nil, nil, fmt.Errorf("valence disk: %w", err)
	}
	valence = r.lines
	fmt.Fprintf(os.Stderr, "bench: disk boot of Linux %s (intel_iommu=%s)\n", *linuxName, *linuxIOMMU)
	r, err = boot(linuxArgs, "diskbench: start", *timeout)
	if err != nil {
		return nil, nil, fmt.Errorf("linux disk: %w", err)
	}
	return valence, r.lines, nil
}

// compare pairs each Valence figure with Linux's: the same name, or for
// IPC the fastest Linux mechanism carrying the same payload. A figure
// only Linux has (Valence's workload failed) is a row too, with
// ValenceMissing set, except Linux's IPC alternatives ("ipc-64B/pipe").
func compare(vs, ls map[string]sample) []figure {
	names := make([]string, 0, len(vs))
	for n := range vs {
		names = append(names, n)
	}
	for n := range ls {
		if _, ok := vs[n]; !ok && !strings.Contains(n, "/") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var figs []figure
	for _, n := range names {
		v, ok := vs[n]
		if !ok {
			l := ls[n]
			figs = append(figs, figure{Name: n, Unit: l.unit, Linux: l.median, LinuxMin: l.min, Repetitions: l.reps,
				HigherBetter: higherBetter(l.unit), ValenceMissing: true})
			continue
		}
		f := figure{Name: n, Unit: v.unit, Valence: v.median, Repetitions: v.reps, ValenceMin: v.min, Min: v.min, Median: v.median,
			HigherBetter: higherBetter(v.unit)}
		if l, ok := ls[n]; ok && l.unit == v.unit {
			f.Linux, f.LinuxMin = l.median, l.min
		} else if strings.HasPrefix(n, "ipc-") {
			// The fastest Linux mechanism that carries the same payload.
			for _, alt := range []string{"/pipe", "/unix"} {
				if l, ok := ls[n+alt]; ok && (f.Linux == 0 || l.median < f.Linux) {
					f.Linux, f.LinuxMin, f.LinuxNote = l.median, l.min, strings.TrimPrefix(alt, "/")
				}
			}
		}
		if f.Linux > 0 {
			f.Ratio = f.Valence / f.Linux
		}
		figs = append(figs, f)
	}
	return figs
}

// higherBetter reports whether unit is a rate rather than a time.
func higherBetter(unit string) bool {
	return strings.HasSuffix(unit, "/s") || unit == "IOPS"
}

func report(figs []figure, plan filePlan, nplan netPlan) {
	fmt.Printf("Valence vs Linux %s, same QEMU (%s, %d MiB, 1 CPU); medians (mins)\n", *linuxName, *accel, *mem)
	fmt.Printf("ratio = Valence / Linux: lower is better for Valence for times, higher for rates (MiB/s, IOPS, req/s, conn/s: *)\n")
	if *disk {
		fmt.Printf("nvme-*: %d MiB QEMU NVMe disk, IOMMU attached for both, Linux intel_iommu=%s, O_DIRECT\n", *diskMiB, *linuxIOMMU)
	}
	if *file {
		fmt.Printf("fs-*: Valence's filesystem (fsd, mounted at / by init) vs ext4 on the same QEMU NVMe disk, fresh for each;\n")
		fmt.Printf("      no cache dropped, except in -cold rows Linux's page cache (Valence cannot drop fsd's 64 MiB block cache);\n")
		fmt.Printf("      %s\n", plan)
	}
	if *netOn {
		fmt.Printf("net-*: virtio-net NIC driven from the host; user: QEMU's user network (slirp, hostfwd), tap: a TAP device\n")
		fmt.Printf("       in a private namespace; to-guest/from-guest: TCP MiB/s as the receiver counts it; http: keep-alive\n")
		fmt.Printf("       GET of 64 bytes; connect: connect, the guest's byte, close; %s\n", nplan)
	}
	fmt.Println()
	fmt.Printf("%-28s %-14s %22s %22s %8s\n", "figure", "unit", "valence", "linux", "ratio")
	for _, f := range figs {
		fmt.Println(row(f))
	}
}

// row is f as one line of the table.
func row(f figure) string {
	valence, linux, ratio := fmt.Sprintf("%.3f (%.3f)", f.Valence, f.ValenceMin), "-", "-"
	if f.ValenceMissing {
		valence = "-"
	}
	if f.Linux > 0 {
		linux = fmt.Sprintf("%.3f (%.3f)", f.Linux, f.LinuxMin)
		if f.LinuxNote != "" {
			linux += " " + f.LinuxNote
		}
		ratio = fmt.Sprintf("%.2f", f.Ratio)
		if f.Ratio < 0.095 {
			ratio = fmt.Sprintf("%.3f", f.Ratio) // 0.005, not 0.00
		}
		if f.HigherBetter {
			ratio += "*"
		}
		if f.ValenceMissing {
			ratio = "-"
		}
	}
	return fmt.Sprintf("%-28s %-14s %22s %22s %8s", f.Name, f.Unit, valence, linux, ratio)
}

// buildInitramfs makes a Linux guest's initramfs with prog as /init and
// extra entries (the disk boot's modules).
func buildInitramfs(prog string, extra []cpioEntry) (string, error) {
	data, err := os.ReadFile(prog)
	if err != nil {
		return "", err
	}
	path := filepath.Join(filepath.Dir(*out), "linux-initramfs-"+filepath.Base(prog)+".cpio")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	entries := []cpioEntry{
		{name: "dev", mode: sIFDIR | 0o755},
		{name: "dev/console", mode: sIFCHR | 0o600, major: 5, minor: 1},
		{name: "dev/null", mode: sIFCHR | 0o666, major: 1, minor: 3},
		{name: "proc", mode: sIFDIR | 0o555},
		{name: "init", mode: sIFREG | 0o755, data: data},
	}
	if err := writeCpio(f, append(entries, extra...)); err != nil {
		return "", err
	}
	return path, f.Close()
}
