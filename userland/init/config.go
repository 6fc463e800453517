package main

import (
	"fmt"
	"path"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// selfPath is where the kernel finds init (microkernel/main.go).
const selfPath = "/bin/init"

// consoleCommand is the console program the kernel named (init= on its
// command line), which replaces the manifest's console service's.
type consoleCommand struct {
	Path string   // the program, as the kernel named it; "" if none
	Argv []string // its arguments, Argv[0] the path
}

// parseArgs reads init's own argv: ["/bin/init", program, args...], the
// program being the init= of the kernel's command line. Without one, or
// when it names init itself (init=/bin/init), the manifest's console
// service is the console program.
func parseArgs(argv []string) consoleCommand {
	if len(argv) < 2 || argv[1] == "" || path.Clean(argv[1]) == selfPath {
		return consoleCommand{}
	}
	return consoleCommand{Path: argv[1], Argv: append([]string(nil), argv[1:]...)}
}

// rootInitfs is the value of root= that keeps the initfs as the root.
const rootInitfs = "initfs"

// autoDisks are the disks tried, in order, when root= is not given: the
// names nvmed and virtio-blkd register with pcid by default.
var autoDisks = []string{"nvme0", "vda"}

// rootChoice is what the root= variable asks for.
type rootChoice struct {
	Initfs bool     // root=initfs: no disk, not even pcid
	Disks  []string // pcid names to try, in order of preference
	Named  bool     // Disks is the one root= named, not the default list
}

// parseRoot reads root= from the environment (the kernel passes every
// NAME=value word of its command line to the first process). Empty or
// absent tries autoDisks; "initfs" keeps the initfs; anything else is
// one pcid name, with an optional "/dev/" in front as Linux users write
// it (root=/dev/nvme0).
func parseRoot(getenv func(string) string) rootChoice {
	v := strings.TrimSpace(getenv("root"))
	v = strings.TrimPrefix(v, "/dev/")
	switch v {
	case "":
		return rootChoice{Disks: autoDisks}
	case rootInitfs:
		return rootChoice{Initfs: true}
	}
	return rootChoice{Disks: []string{v}, Named: true}
}

// String describes the choice for the console: "nvme0", "nvme0 or vda".
func (c rootChoice) String() string {
	if c.Initfs {
		return rootInitfs
	}
	return strings.Join(c.Disks, " or ")
}

// privateEnv are variables meant for init alone: the root device
// capability's handle names nothing in init's handle table, and initial
// handles are per process.
var privateEnv = []string{"VALENCE_DEVICE_ROOT", "VALENCE_HANDLES"}

// initEnv is the console program's environment: init's, less
// privateEnv.
func initEnv(environ []string) []string {
	out := make([]string, 0, len(environ))
next:
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		for _, p := range privateEnv {
			if name == p {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

// chooseInit picks the file to run as the console program. On the initfs root, or when
// path exists on the new root, it is path. When the root is a disk that
// lacks it but the initfs (bound at bootDir) has it, it is that copy, and
// note says so; otherwise path, which will fail to start with its own
// error.
func chooseInit(p string, onDisk, bootBound bool, exists func(string) bool) (file, note string) {
	if !onDisk || exists(p) || !bootBound || !path.IsAbs(p) {
		return p, ""
	}
	if alt := path.Join(bootDir, p); exists(alt) {
		return alt, fmt.Sprintf("%s is not on the root disk; running %s from the initfs", p, alt)
	}
	return p, ""
}

// exitCode is the status init exits with for the console program's wait
// status: its exit code, or 128+n if signal n killed it, as shells
// report.
func exitCode(st syscall.WaitStatus) int {
	switch {
	case st.Exited():
		return st.ExitStatus()
	case st.Signaled():
		return 128 + int(st.Signal())
	}
	return 1
}

// describeStatus words a wait status as pcid does: "exit status 1",
// "killed by SIGKILL".
func describeStatus(st syscall.WaitStatus) string {
	switch {
	case st.Exited():
		return fmt.Sprintf("exit status %d", st.ExitStatus())
	case st.Signaled():
		name := unix.SignalName(st.Signal())
		if name == "" {
			name = fmt.Sprintf("signal %d", int(st.Signal()))
		}
		return "killed by " + name
	}
	return fmt.Sprintf("wait status %#x", uint32(st))
}
