package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"syscall"

	"valence.dev/drivers/pci/pci"
)

// maxManifest is the most of a manifest file read: a manifest is a few
// lines, and a huge file is a mistake, not a reason to run out of memory.
const maxManifest = 64 << 10

// loadManifests reads dir/*.toml in name order. A manifest that cannot
// be read or parsed is logged with its reason and skipped; the others
// still count.
func loadManifests(dir string, log func(format string, args ...any)) []*pci.Manifest {
	names, err := filepath.Glob(filepath.Join(dir, "*.toml"))
	if err != nil {
		log("manifests: %v", err)
		return nil
	}
	sort.Strings(names)
	if len(names) == 0 {
		log("no driver manifests in %s", dir)
	}
	var ms []*pci.Manifest
	for _, name := range names {
		data, err := readLimited(name, maxManifest)
		if err != nil {
			log("manifest %s skipped: %v", name, err)
			continue
		}
		m, err := pci.ParseManifest(name, data)
		if err != nil {
			log("manifest %s skipped: %v", name, err)
			continue
		}
		ms = append(ms, m)
	}
	return ms
}

func readLimited(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}

// describeExit says how a process ended, as the console shows it.
func describeExit(st syscall.WaitStatus) string {
	switch {
	case st.Exited():
		return fmt.Sprintf("exit status %d", st.ExitStatus())
	case st.Signaled():
		return "killed by " + signalName(st.Signal())
	}
	return fmt.Sprintf("wait status %#x", uint32(st))
}

func signalName(s syscall.Signal) string {
	names := map[syscall.Signal]string{
		syscall.SIGABRT: "SIGABRT", syscall.SIGBUS: "SIGBUS", syscall.SIGFPE: "SIGFPE",
		syscall.SIGILL: "SIGILL", syscall.SIGINT: "SIGINT", syscall.SIGKILL: "SIGKILL",
		syscall.SIGSEGV: "SIGSEGV", syscall.SIGTERM: "SIGTERM", syscall.SIGTRAP: "SIGTRAP",
	}
	if n, ok := names[s]; ok {
		return n
	}
	return fmt.Sprintf("signal %d", int(s))
}
