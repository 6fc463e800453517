package main

import (
	"fmt"
	"path"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// defaultInit is run when the kernel passes no init path.
const defaultInit = "/bin/init"

// initCommand is what bootstrap was asked to run once the root is up.
type initCommand struct {
	Path string   // the program, as the kernel named it
	Argv []string // its arguments, Argv[0] the path
}

// parseArgs reads bootstrap's own argv: ["/bin/bootstrap", init path,
// init args...]. Without an init path it runs defaultInit.
func parseArgs(argv []string) initCommand {
	if len(argv) < 2 || argv[1] == "" {
		return initCommand{Path: defaultInit, Argv: []string{defaultInit}}
	}
	return initCommand{Path: argv[1], Argv: append([]string(nil), argv[1:]...)}
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

// privateEnv are variables meant for bootstrap alone: the root device
// capability's handle names nothing in init's handle table, and initial
// handles are per process.
var privateEnv = []string{"VALENCE_DEVICE_ROOT", "VALENCE_HANDLES"}

// initEnv is init's environment: bootstrap's, less privateEnv.
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

// chooseInit picks the file to run as init. On the initfs root, or when
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

// exitCode is the status bootstrap exits with for init's wait status:
// init's exit code, or 128+n if signal n killed it, as shells report.
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
