package main

import (
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// onValence reports whether the kernel is Valence (uname's sysname); the
// same binary runs as init of a Linux guest for comparison.
func onValence() bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return false
	}
	return unix.ByteSliceToString(u.Sysname[:]) == "Valence"
}

// asLinuxInit prepares a Linux guest where ubench is /init: /proc for
// os.Executable.
func asLinuxInit() {
	if os.Getpid() != 1 || onValence() {
		return
	}
	os.MkdirAll("/proc", 0o555)
	if err := syscall.Mount("proc", "/proc", "proc", 0, ""); err != nil {
		fmt.Println("ubench: mounting /proc:", err)
	}
}

// powerOff ends a Linux guest when ubench is its init (on Valence the
// kernel powers off when init exits).
func powerOff() {
	if os.Getpid() != 1 || onValence() {
		return
	}
	syscall.Sync()
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	time.Sleep(time.Hour)
}

// pipePingPong passes a byte back and forth between this process and a
// child through two pipes.
func pipePingPong(size int) func(ops int) (time.Duration, error) {
	return func(ops int) (time.Duration, error) {
		return pingPongChild("pipe-child", size, ops, false)
	}
}

// unixPingPong does the same over a Unix socket pair (Linux only).
func unixPingPong(size int) func(ops int) (time.Duration, error) {
	return func(ops int) (time.Duration, error) {
		return pingPongChild("pipe-child", size, ops, true)
	}
}

func pingPongChild(role string, size, ops int, socket bool) (time.Duration, error) {
	var mine, theirs [2]*os.File // [0] read, [1] write
	if socket {
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
		if err != nil {
			return 0, err
		}
		a, b := os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b")
		mine, theirs = [2]*os.File{a, a}, [2]*os.File{b, b}
	} else {
		r1, w1, err := os.Pipe()
		if err != nil {
			return 0, err
		}
		r2, w2, err := os.Pipe()
		if err != nil {
			return 0, err
		}
		mine, theirs = [2]*os.File{r2, w1}, [2]*os.File{r1, w2}
	}
	self := executable()
	p, err := os.StartProcess(self, []string{"ubench", role, fmt.Sprint(size), fmt.Sprint(ops)},
		&os.ProcAttr{Files: []*os.File{theirs[0], theirs[1], os.Stderr}})
	if err != nil {
		return 0, err
	}
	theirs[0].Close()
	if theirs[1] != theirs[0] {
		theirs[1].Close()
	}
	buf := make([]byte, size)
	t0 := time.Now()
	for i := 0; i < ops; i++ {
		buf[0] = byte(i)
		if _, err := mine[1].Write(buf); err != nil {
			return 0, err
		}
		if _, err := readFull(mine[0], buf); err != nil {
			return 0, err
		}
		if buf[0] != byte(i+1) {
			return 0, fmt.Errorf("round trip %d came back as %d", i, buf[0])
		}
	}
	d := time.Since(t0)
	mine[0].Close()
	if mine[1] != mine[0] {
		mine[1].Close()
	}
	if st, err := p.Wait(); err != nil || !st.Success() {
		return 0, fmt.Errorf("ping-pong child: %v %v", st, err)
	}
	return d, nil
}

// pipeChild echoes size-byte messages from stdin to stdout, adding one to
// the first byte, ops times.
func pipeChild(size, ops int) int {
	buf := make([]byte, size)
	for i := 0; i < ops; i++ {
		if _, err := readFull(os.Stdin, buf); err != nil {
			return 1
		}
		buf[0]++
		if _, err := os.Stdout.Write(buf); err != nil {
			return 2
		}
	}
	return 0
}

func readFull(f *os.File, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := f.Read(b[n:])
		if err != nil {
			return n, err
		}
		n += m
	}
	return n, nil
}

func executable() string {
	if self, err := os.Executable(); err == nil {
		return self
	}
	if os.Getpid() == 1 {
		return "/init"
	}
	return "/bin/ubench"
}
