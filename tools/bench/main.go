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
	boots       = flag.Int("boots", 3, "boots per kernel (for the launch-to-first-line figure)")
	out         = flag.String("out", "build/bench.json", "JSON report")
	timeout     = flag.Duration("timeout", 10*time.Minute, "limit for one boot")
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

type bootResult struct {
	firstLine time.Duration
	lines     []string
}

// boot runs one guest to completion and collects ubench's output.
func boot(args []string) (bootResult, error) {
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
	timer := time.AfterFunc(*timeout, func() { cmd.Process.Kill() })
	defer timer.Stop()
	sc := bufio.NewScanner(stdout)
	var all []string
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		all = append(all, line)
		if i := strings.Index(line, "ubench: start"); i >= 0 && r.firstLine == 0 {
			r.firstLine = time.Since(start)
		}
		if strings.HasPrefix(line, "bench: ") {
			r.lines = append(r.lines, line)
		}
	}
	io.Copy(io.Discard, stdout)
	err = cmd.Wait()
	if r.firstLine == 0 || len(r.lines) == 0 {
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
	initrd, err := buildInitramfs()
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
		r, err := boot(valenceArgs)
		if err != nil {
			return fmt.Errorf("valence: %w", err)
		}
		vb, vlast = append(vb, r.firstLine), r
		fmt.Fprintf(os.Stderr, "bench: boot %d/%d of Linux %s\n", i+1, *boots, *linuxName)
		r, err = boot(linuxArgs)
		if err != nil {
			return fmt.Errorf("linux: %w", err)
		}
		lb, llast = append(lb, r.firstLine), r
	}
	vs, ls := parse(vlast.lines), parse(llast.lines)
	var figs []figure
	vmin, vmed := minMedian(vb)
	lmin, lmed := minMedian(lb)
	figs = append(figs, figure{Name: "launch-to-first-line", Unit: "ms", Valence: vmed, Linux: lmed,
		Repetitions: *boots, ValenceMin: vmin, LinuxMin: lmin, Min: vmin, Median: vmed})
	names := make([]string, 0, len(vs))
	for n := range vs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := vs[n]
		f := figure{Name: n, Unit: v.unit, Valence: v.median, Repetitions: v.reps, ValenceMin: v.min, Min: v.min, Median: v.median}
		if l, ok := ls[n]; ok {
			f.Linux, f.LinuxMin = l.median, l.min
		} else if strings.HasPrefix(n, "ipc-") {
			// The fastest Linux mechanism that carries the same payload.
			for _, alt := range []string{"/pipe", "/unix"} {
				if l, ok := ls[n+alt]; ok && (f.Linux == 0 || l.median < f.Linux) {
					f.Linux, f.LinuxMin, f.LinuxNote = l.median, l.min, strings.TrimPrefix(alt, "/")
				}
			}
		}
		figs = append(figs, f)
	}
	for i := range figs {
		if figs[i].Linux > 0 {
			figs[i].Ratio = figs[i].Valence / figs[i].Linux
		}
	}
	report(figs)
	b, err := json.MarshalIndent(map[string]any{
		"date": time.Now().UTC().Format(time.RFC3339), "accel": *accel, "memory_mib": *mem,
		"linux_kernel": *linuxName, "figures": figs}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(*out, append(b, '\n'), 0o644)
}

func report(figs []figure) {
	fmt.Printf("Valence vs Linux %s, same QEMU (%s, %d MiB, 1 CPU); medians (mins)\n\n", *linuxName, *accel, *mem)
	fmt.Printf("%-24s %-14s %22s %22s %8s\n", "figure", "unit", "valence", "linux", "ratio")
	for _, f := range figs {
		linux := "-"
		ratio := "-"
		if f.Linux > 0 {
			linux = fmt.Sprintf("%.3f (%.3f)", f.Linux, f.LinuxMin)
			if f.LinuxNote != "" {
				linux += " " + f.LinuxNote
			}
			ratio = fmt.Sprintf("%.2f", f.Ratio)
		}
		fmt.Printf("%-24s %-14s %22s %22s %8s\n", f.Name, f.Unit, fmt.Sprintf("%.3f (%.3f)", f.Valence, f.ValenceMin), linux, ratio)
	}
}

// buildInitramfs makes the Linux guest's initramfs around ubench.
func buildInitramfs() (string, error) {
	prog, err := os.ReadFile(*ubench)
	if err != nil {
		return "", err
	}
	path := filepath.Join(filepath.Dir(*out), "linux-initramfs.cpio")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	err = writeCpio(f, []cpioEntry{
		{name: "dev", mode: sIFDIR | 0o755},
		{name: "dev/console", mode: sIFCHR | 0o600, major: 5, minor: 1},
		{name: "dev/null", mode: sIFCHR | 0o666, major: 1, minor: 3},
		{name: "proc", mode: sIFDIR | 0o555},
		{name: "init", mode: sIFREG | 0o755, data: prog},
	})
	return path, err
}
