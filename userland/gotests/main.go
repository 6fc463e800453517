// Command gotests runs Go's own test suites for path/filepath, io/fs,
// os, os/exec, net and net/http inside Valence: the test binaries
// `go test -c` builds, which make image puts in /gotests/bin, with each
// package's source directory (its testdata, and the sources some tests
// read) under /gotests/src/<package> (docs/gotests.md). Run it as init
// through /bin/init (root=nvme0), so that those directories and
// /tmp are on the writable root disk.
//
// For each suite it changes to /gotests/src/<package> and runs
//
//	<bindir>/<name>.test -test.v -test.short -test.timeout=30m -test.skip=<exceptions> -test.run=.
//
// with GOROOT=/gotests and TMPDIR=/tmp/gotests-<name> (made empty before,
// removed after), its output streamed to the console. The exceptions are
// the tests that need what Valence documents as missing (skips.go, with
// the reasons). It prints "gotests: <suite>: ok (...)" per suite that
// passes and "gotests: <suite>: FAIL: <failed tests>" per suite that fails,
// goes on with the others, and finally prints "gotests: PASS" (exit 0) or
// "gotests: FAIL (<n> of <m> failed: <suites>)" (exit 1).
//
// Before the suites it adds what they expect of any Linux system where
// the disk lacks it: /etc/group, /etc/hosts, /etc/passwd and
// /etc/services, and a /usr/bin holding links to the programs of /bin.
// Before each suite it gives the files of its directory a modification
// time if they have none (the image's files are dated at the Unix epoch).
// The net and net/http suites need the network: boot with a NIC, so that
// init starts netd.
//
// Settings (environment, from the kernel command line):
//
//	GOTESTS=a,b          only these suites (or the names as arguments)
//	GOTESTS_RUN=regexp   passed on as -test.run
//	GOTESTS_SKIP=T1,T2/s more tests to skip (a trailing * matches any suffix)
//	GOTESTS_NOSKIP=1     run the exceptions too, to see how they fail
//	GOTESTS_QUICK=1      make test's set: binaries from /boot/gotests/bin
//	                     (the initfs), without the slow tests (skips.go)
//	GOTESTS_BIN=dir      where the binaries are (default /gotests/bin)
//	GOTESTS_LONG=1       without -test.short
//	GOTESTS_TIMEOUT=30m  -test.timeout per suite
package main

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"
)

// suites are the packages whose test binaries run, in this order: each
// is /gotests/bin/<last element>.test, run in /gotests/src/<package>.
var suites = []string{"path/filepath", "io/fs", "os", "os/exec", "net", "net/http"}

// networked are the suites that need sockets: without a network server
// (no NIC, so init started no netd) their every test fails, and
// gotests says so once instead.
var networked = []string{"net", "net/http"}

// goroot is the GOROOT the suites see: their sources, and the source
// directories some tests walk (make image puts them there).
const goroot = "/gotests"

// etcFiles are the files of /etc the os suite reads as a known system
// directory (its sysdir: group, hosts, passwd, as on any Linux system),
// and services, which net's TestReadLine reads (it skips itself without
// it); gotests writes them when the image lacks them.
var etcFiles = map[string]string{
	"/etc/group":    "root:x:0:\n",
	"/etc/hosts":    "127.0.0.1\tlocalhost\n::1\tlocalhost\n",
	"/etc/passwd":   "root:x:0:0:root:/:/bin/sh\n",
	"/etc/services": "echo\t\t7/tcp\necho\t\t7/udp\ndiscard\t\t9/tcp\tsink null\ndomain\t\t53/tcp\ndomain\t\t53/udp\nhttp\t\t80/tcp\t\twww\n",
}

func main() {
	start := time.Now()
	only := os.Getenv("GOTESTS")
	if len(os.Args) > 1 {
		only = strings.Join(append([]string{only}, os.Args[1:]...), ",")
	}
	var named []string
	for _, n := range strings.Split(only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			if !slices.Contains(suites, n) {
				fmt.Printf("gotests: FAIL %s: no such suite (have %s)\n", n, strings.Join(suites, ", "))
				os.Exit(1)
			}
			named = append(named, n)
		}
	}
	if err := setup(); err != nil {
		fmt.Printf("gotests: FAIL setup: %v\n", err)
		os.Exit(1)
	}
	var failed []string
	ran := 0
	for _, s := range suites {
		if len(named) > 0 && !slices.Contains(named, s) {
			continue
		}
		ran++
		t0 := time.Now()
		r, err := run(s)
		d := time.Since(t0).Round(time.Second)
		if err != nil {
			// Not "gotests: FAIL ...": that is the verdict, at the end.
			fmt.Printf("gotests: %s: FAIL: %v (%v)\n", s, err, d)
			failed = append(failed, s)
			continue
		}
		fmt.Printf("gotests: %s: ok (%d passed, %d skipped, %v)\n", s, r.passed, r.skipped, d)
	}
	if len(failed) > 0 {
		fmt.Printf("gotests: FAIL (%d of %d failed: %s)\n", len(failed), ran, strings.Join(failed, ", "))
		os.Exit(1)
	}
	fmt.Printf("gotests: PASS (%v)\n", time.Since(start).Round(time.Second))
}

// setup gives the suites what they expect of any Linux system: the files
// of /etc the os suite reads as a known system directory (its sysdir), and
// a /usr/bin (os's TestChdirAndGetwd changes into it, and
// TestReaddirnamesOneAtATime lists it), holding links to the programs of
// /bin. It adds only what is missing.
func setup() error {
	for _, name := range slices.Sorted(maps.Keys(etcFiles)) {
		if _, err := os.Lstat(name); err == nil {
			continue
		}
		if err := os.WriteFile(name, []byte(etcFiles[name]), 0o644); err != nil {
			return err
		}
	}
	if _, err := os.Lstat("/usr/bin"); err == nil {
		return nil
	}
	if err := os.MkdirAll("/usr/bin", 0o755); err != nil {
		return err
	}
	progs, err := os.ReadDir("/bin")
	if err != nil {
		return err
	}
	for _, p := range progs {
		if p.Type().IsRegular() {
			if err := os.Link("/bin/"+p.Name(), "/usr/bin/"+p.Name()); err != nil {
				return err
			}
		}
	}
	return nil
}

// result counts a suite's top-level tests by outcome.
type result struct {
	passed, skipped int
	failed          []string
	verdict         string // the binary's last "PASS" or "FAIL" line
}

var outcome = regexp.MustCompile(`^--- (PASS|FAIL|SKIP): (\S+)`)

// run runs one suite's binary in its directory, streaming its output,
// and returns an error that names the failed tests.
func run(name string) (result, error) {
	dir := filepath.Join(goroot, "src", name)
	quick := os.Getenv("GOTESTS_QUICK") != ""
	bindir := os.Getenv("GOTESTS_BIN")
	switch {
	case bindir != "":
	case quick:
		bindir = "/boot/gotests/bin"
	default:
		bindir = filepath.Join(goroot, "bin")
	}
	bin := filepath.Join(bindir, path.Base(name)+".test")
	if slices.Contains(networked, name) {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return result{}, fmt.Errorf("no network (%v): boot with a NIC, so that init starts netd (docs/net.md)", err)
		}
		l.Close()
	}
	if err := dateFiles(dir); err != nil {
		return result{}, err
	}
	timeout := os.Getenv("GOTESTS_TIMEOUT")
	if timeout == "" {
		timeout = "30m"
	}
	args := []string{"-test.v", "-test.timeout=" + timeout}
	if os.Getenv("GOTESTS_LONG") == "" {
		args = append(args, "-test.short")
	}
	var skip []string
	if os.Getenv("GOTESTS_NOSKIP") == "" {
		skip = append(skip, announce(name, skips[name], "")...)
	}
	if quick {
		skip = append(skip, announce(name, slow[name], " (slow; make soak runs it)")...)
	}
	if extra := os.Getenv("GOTESTS_SKIP"); extra != "" {
		skip = append(skip, strings.Split(extra, ",")...)
	}
	if re := skipRegexp(skip); re != "" {
		args = append(args, "-test.skip="+re)
	}
	run := os.Getenv("GOTESTS_RUN")
	if run == "" && len(skip) > 0 {
		// os/exec's TestMain fails a complete run (no -test.run) in which
		// a helper command went unused, as one a skipped test needs does.
		run = "."
	}
	if run != "" {
		args = append(args, "-test.run="+run)
	}
	fmt.Printf("gotests: %s: cd %s && %s %s\n", name, dir, bin, strings.Join(args, " "))
	// Each suite gets a temporary directory of its own on the root disk,
	// removed afterwards.
	tmp := filepath.Join("/tmp", "gotests-"+path.Base(name))
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o777); err != nil {
		return result{}, fmt.Errorf("making %s: %w", tmp, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "GOROOT="+goroot)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	var r result
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Println(line)
			if m := outcome.FindStringSubmatch(line); m != nil {
				switch m[1] {
				case "PASS":
					r.passed++
				case "SKIP":
					r.skipped++
				case "FAIL":
					r.failed = append(r.failed, m[2])
				}
			}
			if line == "PASS" || line == "FAIL" {
				r.verdict = line
			}
		}
		io.Copy(io.Discard, pr)
	}()
	err := cmd.Run()
	pw.Close()
	<-done
	if rerr := os.RemoveAll(tmp); rerr != nil {
		fmt.Printf("gotests: %s: removing %s: %v\n", name, tmp, rerr)
	}
	switch {
	case len(r.failed) > 0:
		return r, fmt.Errorf("%d failed: %s", len(r.failed), strings.Join(r.failed, " "))
	case err != nil:
		if ee, ok := err.(*exec.ExitError); ok {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return r, fmt.Errorf("killed by %v", ws.Signal())
			}
		}
		return r, fmt.Errorf("%v (a panic or a timeout: see above)", err)
	case r.verdict != "PASS":
		return r, fmt.Errorf("no PASS line")
	}
	return r, nil
}

// announce prints the tests of list that suite skips, one line per
// reason (the net suite skips dozens for a few reasons), and returns
// their names.
func announce(suite string, list []skip, note string) []string {
	var names []string
	byWhy := map[string][]string{}
	var whys []string
	for _, s := range list {
		if byWhy[s.why] == nil {
			whys = append(whys, s.why)
		}
		byWhy[s.why] = append(byWhy[s.why], s.test)
		names = append(names, s.test)
	}
	for _, why := range whys {
		fmt.Printf("gotests: %s: skipping %s%s: %s\n", suite, strings.Join(byWhy[why], ", "), note, why)
	}
	return names
}

// dateFiles gives the files under dir that are dated at the Unix epoch
// the current time. mkimage dates every file of the image there (its
// reproducible default), and Go's tests expect the files of a GOROOT to
// have a real modification time: net/http's TestServeContent serves
// testdata with the time it stats, and ServeContent sends no
// Last-Modified for the epoch, which it takes for "unknown".
func dateFiles(dir string) error {
	now := time.Now()
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.ModTime().Unix() != 0 {
			return nil
		}
		return os.Chtimes(p, now, now)
	})
}
