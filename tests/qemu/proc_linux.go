package qemu

import (
	"os/exec"
	"syscall"
)

// setProcAttr makes the kernel kill QEMU if the test binary dies without
// running its cleanups, for example when go test's -timeout panics it.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
