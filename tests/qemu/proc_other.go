//go:build !linux

package qemu

import "os/exec"

// setProcAttr does nothing outside Linux, which alone has a parent-death
// signal.
func setProcAttr(cmd *exec.Cmd) {}
