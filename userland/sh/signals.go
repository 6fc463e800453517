package main

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// maxSignal is the highest signal kill -l lists (the classic signals; the
// real-time ones are accepted by number).
const maxSignal = 31

// signalName is a signal's name without "SIG", as kill -l prints it.
func signalName(sig syscall.Signal) string {
	name := unix.SignalName(sig)
	if name == "" {
		return strconv.Itoa(int(sig))
	}
	return strings.TrimPrefix(name, "SIG")
}

// parseSignal reads a signal as kill(1p) takes it: a name with or without
// "SIG" in any case, or a number from 0 to 64 (0 only checks the target).
func parseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 64 {
			return 0, fmt.Errorf("%s: invalid signal number", s)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("%s: invalid signal specification", s)
}
