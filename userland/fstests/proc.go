package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// testProc reads the kernel's /proc as ps, free, mount and Go's
// os.Executable do.
func testProc(dir string) error {
	self := strconv.Itoa(os.Getpid())
	if target, err := os.Readlink("/proc/self"); err != nil || target != self {
		return fmt.Errorf("/proc/self -> %q (%v), want %s", target, err, self)
	}
	exe, err := os.Executable()
	if err != nil || !strings.HasSuffix(exe, "/bin/fstests") {
		return fmt.Errorf("os.Executable: %q (%v)", exe, err)
	}
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return err
	}
	// pid (comm) state ppid ...: 52 fields, comm in parentheses.
	f := strings.Fields(string(stat))
	if len(f) != 52 || f[0] != self || f[1] != "(fstests)" || f[3] != strconv.Itoa(os.Getppid()) {
		return fmt.Errorf("/proc/self/stat: %d fields: %q", len(f), stat)
	}
	status, err := os.ReadFile("/proc/" + self + "/status")
	if err != nil || !strings.Contains(string(status), "Name:\tfstests\n") ||
		!strings.Contains(string(status), "Pid:\t"+self+"\n") {
		return fmt.Errorf("/proc/%s/status (%v):\n%s", self, err, status)
	}
	cmdline, err := os.ReadFile("/proc/self/cmdline")
	if err != nil || !strings.HasPrefix(string(cmdline), os.Args[0]+"\x00") {
		return fmt.Errorf("/proc/self/cmdline: %q (%v)", cmdline, err)
	}
	if err := os.Chdir(dir); err != nil {
		return err
	}
	defer os.Chdir("/")
	if cwd, err := os.Readlink("/proc/self/cwd"); err != nil || cwd != dir {
		return fmt.Errorf("/proc/self/cwd -> %q (%v), want %s", cwd, err, dir)
	}
	opened, err := os.Open("/etc/motd")
	if err != nil {
		return err
	}
	defer opened.Close()
	link := fmt.Sprintf("/proc/self/fd/%d", opened.Fd())
	if target, err := os.Readlink(link); err != nil || target != "/etc/motd" {
		return fmt.Errorf("%s -> %q (%v)", link, target, err)
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil || len(fds) < 4 {
		return fmt.Errorf("/proc/self/fd lists %d (%v), want stdin, stdout, stderr and more", len(fds), err)
	}
	mem, err := os.ReadFile("/proc/meminfo")
	if err != nil || !strings.HasPrefix(string(mem), "MemTotal:") {
		return fmt.Errorf("/proc/meminfo (%v): %q", err, mem)
	}
	mounts, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return err
	}
	for _, want := range []string{" / valfs rw", " /boot initfs ro", " /dev devtmpfs ro", " /proc proc ro"} {
		if !strings.Contains(string(mounts), want) {
			return fmt.Errorf("/proc/mounts lacks %q:\n%s", want, mounts)
		}
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return err
	}
	found := false
	for _, e := range ents {
		found = found || e.Name() == self
	}
	if !found {
		return fmt.Errorf("/proc does not list %s", self)
	}
	if _, err := os.ReadFile("/proc/uptime"); err != nil {
		return err
	}
	if err := os.WriteFile("/proc/self/comm", []byte("x"), 0); err == nil {
		return fmt.Errorf("writing /proc/self/comm worked")
	}
	return nil
}
