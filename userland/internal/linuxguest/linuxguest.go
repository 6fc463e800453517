// Package linuxguest is what the benchmark programs (diskbench,
// filebench) need when they run as the init of the Linux guest that
// make bench compares Valence with: the pseudo-filesystems mounted and
// the initramfs's kernel modules loaded, in the order its list gives.
package linuxguest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// MountPseudo mounts devtmpfs, sysfs and proc, as an initramfs's init
// must before it can find devices.
func MountPseudo() error {
	for _, m := range []struct{ fs, dir string }{{"devtmpfs", "/dev"}, {"sysfs", "/sys"}, {"proc", "/proc"}} {
		os.MkdirAll(m.dir, 0o755)
		if err := unix.Mount(m.fs, m.dir, m.fs, 0, ""); err != nil && !errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("mount %s on %s: %w", m.fs, m.dir, err)
		}
	}
	return nil
}

// LoadModules loads every module named in dir/order, one file name a
// line. failed decides what a module that does not load means: nil goes
// on, an error stops.
func LoadModules(dir string, failed func(name string, err error) error) error {
	f, err := os.Open(filepath.Join(dir, "order"))
	if err != nil {
		return fmt.Errorf("module list: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name := strings.TrimSpace(sc.Text())
		if name == "" {
			continue
		}
		if err := LoadModule(filepath.Join(dir, name)); err != nil {
			if err := failed(name, err); err != nil {
				return err
			}
		}
	}
	return sc.Err()
}

// LoadModule loads one module file; one already there (or built in) is
// fine.
func LoadModule(path string) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	err = unix.FinitModule(fd, "", 0)
	if errors.Is(err, unix.ENOSYS) {
		var data []byte
		if data, err = os.ReadFile(path); err == nil {
			err = unix.InitModule(data, "")
		}
	}
	if errors.Is(err, unix.EEXIST) {
		return nil
	}
	return err
}
