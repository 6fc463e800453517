package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"valence.dev/ipc"
	"valence.dev/libos"
)

// Spawning with bad arguments. A spawn must decode everything (strings,
// handles, out-pointers) before it starts anything, and say why it
// refused: a pid pointer the kernel cannot write once started a child and
// reported success anyway (the caller never learned of the child); an
// argument longer than the limit gave EFAULT instead of E2BIG; and a file
// the loader refused was explained on the console only for init.

func init() {
	addTest("spawn-pid-pointer", testSpawnPidPointer)
	addTest("spawn-e2big", testSpawnE2BIG)
	addTest("spawn-refused-reason", testSpawnRefusedReason)
	addRole("spawnargs-exit", func([]string) int { return 0 })
	addRole("spawnargs-arglen", roleArgLen)
}

// cstrs returns NUL-terminated copies of ss and a NULL-terminated array
// of pointers to them; keep both alive across the call.
func cstrs(ss []string) ([][]byte, []*byte) {
	bufs := make([][]byte, len(ss))
	ptrs := make([]*byte, len(ss)+1)
	for i, s := range ss {
		bufs[i] = append([]byte(s), 0)
		ptrs[i] = &bufs[i][0]
	}
	return bufs, ptrs
}

// procSpawnRaw is SysProcSpawn with the pid out-pointer given as a raw
// address.
func procSpawnRaw(file string, argv, envp []string, pid uintptr) (ipc.Handle, syscall.Errno) {
	p := append([]byte(file), 0)
	ab, ap := cstrs(argv)
	eb, ep := cstrs(envp)
	r, _, e := syscall.Syscall6(ipc.SysProcSpawn, uintptr(unsafe.Pointer(&p[0])), uintptr(unsafe.Pointer(&ap[0])),
		uintptr(unsafe.Pointer(&ep[0])), 0, 0, pid)
	runtime.KeepAlive(p)
	runtime.KeepAlive(ab)
	runtime.KeepAlive(eb)
	return ipc.Handle(r), e
}

// waitAny is SysWait(any child, WaitNoHang): a reaped child's pid, 0 if
// children are still running, or an error (ECHILD: no children at all).
func waitAny() (int, syscall.Errno) {
	r, _, e := syscall.Syscall(ipc.SysWait, 0, 0, ipc.WaitNoHang)
	return int(r), e
}

// noChildren reaps whatever children earlier tests left ended, and fails
// if one still runs after a generous wait.
func noChildren() error {
	deadline := time.Now().Add(generous)
	for {
		pid, e := waitAny()
		switch {
		case e == syscall.ECHILD:
			return nil
		case e != 0:
			return fmt.Errorf("wait: %v", e)
		case pid == 0 && time.Now().After(deadline):
			return errors.New("a child of an earlier test is still running")
		case pid == 0:
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// noChildStarted fails if a refused spawn left a child behind, running
// or ended.
func noChildStarted(what string) error {
	pid, e := waitAny()
	switch {
	case e == syscall.ECHILD:
		return nil
	case e != 0:
		return fmt.Errorf("%s: wait: %v", what, e)
	case pid == 0:
		return fmt.Errorf("%s: refused, but a child was started and is running", what)
	default:
		return fmt.Errorf("%s: refused, but a child was started (pid %d, ended)", what, pid)
	}
}

func testSpawnPidPointer() error {
	if err := noChildren(); err != nil {
		return err
	}
	ro, err := syscall.Mmap(-1, 0, 4096, syscall.PROT_READ, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return err
	}
	defer syscall.Munmap(ro)
	gone, err := syscall.Mmap(-1, 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return err
	}
	goneAddr := uintptr(unsafe.Pointer(&gone[0]))
	if err := syscall.Munmap(gone); err != nil {
		return err
	}
	argv := []string{"attacks", "role", "spawnargs-exit"}
	for _, c := range []struct {
		where string
		addr  uintptr
	}{
		{"a read-only page", uintptr(unsafe.Pointer(&ro[0]))},
		{"the last bytes of a read-only page", uintptr(unsafe.Pointer(&ro[4094]))},
		{"an unmapped page", goneAddr},
		{"the kernel", 0xffff_8000_0010_0000},
	} {
		h, e := procSpawnRaw(self(), argv, nil, c.addr)
		if e == 0 {
			libos.ProcWait(h)
			libos.Close(h)
			noChildren()
			return fmt.Errorf("spawn with the pid pointer in %s succeeded", c.where)
		}
		if e != syscall.EFAULT {
			return fmt.Errorf("spawn with the pid pointer in %s: %v, want EFAULT", c.where, e)
		}
		if err := noChildStarted("pid pointer in " + c.where); err != nil {
			return err
		}
	}
	// A good pointer gets the child's pid.
	var pid int32 = -1
	h, e := procSpawnRaw(self(), argv, nil, uintptr(unsafe.Pointer(&pid)))
	if e != 0 {
		return fmt.Errorf("spawn with a good pid pointer: %v", e)
	}
	defer libos.Close(h)
	info, err := libos.Info(h)
	if err != nil || info.Type != ipc.TypeProcess || int32(info.Object) != pid {
		return fmt.Errorf("spawn wrote pid %d; its process handle says %+v, %v", pid, info, err)
	}
	if got, st, err := libos.Wait(int(pid)); err != nil || got != int(pid) || st.ExitStatus() != 0 {
		return fmt.Errorf("wait %d: %d, %v, %v", pid, got, st, err)
	}
	return nil
}

// roleArgLen checks that its first argument arrived whole: n bytes of 'x'.
func roleArgLen(args []string) int {
	if len(args) != 2 {
		return 2
	}
	n, err := strconv.Atoi(args[1])
	if err != nil || len(args[0]) != n || strings.Trim(args[0], "x") != "" {
		fmt.Printf("spawnargs-arglen: got %d bytes, want %s\n", len(args[0]), args[1])
		return 1
	}
	return 0
}

func testSpawnE2BIG() error {
	if err := noChildren(); err != nil {
		return err
	}
	big := strings.Repeat("x", 300<<10)
	exitArgv := []string{"attacks", "role", "spawnargs-exit"}
	many := append([]string(nil), exitArgv...)
	for range 100 {
		many = append(many, strings.Repeat("y", 3<<10)) // 300 KiB in all
	}
	cases := []struct {
		what       string
		argv, envp []string
	}{
		{"a 300 KiB argument", append(exitArgv, big), nil},
		{"a 300 KiB environment string", exitArgv, []string{"BIG=" + big}},
		{"100 arguments of 3 KiB", many, nil},
	}
	var pid int32
	for _, c := range cases {
		if _, err := libos.Spawn(self(), c.argv, c.envp); !errors.Is(err, syscall.E2BIG) {
			return fmt.Errorf("spawn with %s: %v, want E2BIG", c.what, err)
		}
		if _, e := procSpawnRaw(self(), c.argv, c.envp, uintptr(unsafe.Pointer(&pid))); e != syscall.E2BIG {
			return fmt.Errorf("proc-spawn with %s: %v, want E2BIG", c.what, e)
		}
		cmd := exec.Command(self(), c.argv[1:]...)
		cmd.Env = c.envp
		if err := cmd.Run(); !errors.Is(err, syscall.E2BIG) {
			return fmt.Errorf("execve with %s: %v, want E2BIG", c.what, err)
		}
		if err := noChildStarted(c.what); err != nil {
			return err
		}
	}
	// A bad pointer is still EFAULT, not E2BIG.
	p := append([]byte(self()), 0)
	bad := []uintptr{uintptr(unsafe.Pointer(&p[0])), 0x10, 0}
	r, _, e := syscall.Syscall(ipc.SysSpawn, uintptr(unsafe.Pointer(&p[0])), uintptr(unsafe.Pointer(&bad[0])), 0)
	runtime.KeepAlive(p)
	runtime.KeepAlive(bad)
	if e != syscall.EFAULT {
		return fmt.Errorf("spawn with an argument at 0x10: %d, %v, want EFAULT", r, e)
	}
	// Under the limit, a long argument arrives whole, on every path.
	long := big[:100<<10]
	argv := []string{"attacks", "role", "spawnargs-arglen", long, strconv.Itoa(len(long))}
	pidA, err := libos.Spawn(self(), argv, nil)
	if err != nil {
		return fmt.Errorf("spawn with a 100 KiB argument: %v", err)
	}
	if _, st, err := libos.Wait(pidA); err != nil || st.ExitStatus() != 0 {
		return fmt.Errorf("child with a 100 KiB argument: %v, %v", st, err)
	}
	if out, err := exec.Command(self(), argv[1:]...).CombinedOutput(); err != nil {
		return fmt.Errorf("execve with a 100 KiB argument: %v: %s", err, out)
	}
	return nil
}

// refusable lists the files of /etc and /bin that are not ELF executables.
func refusable() ([]string, error) {
	var out []string
	for _, dir := range []string{"/etc", "/bin"} {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		for _, ent := range ents {
			if !ent.Type().IsRegular() {
				continue
			}
			p := path.Join(dir, ent.Name())
			f, err := os.Open(p)
			if err != nil {
				return nil, err
			}
			var magic [4]byte
			n, _ := f.Read(magic[:])
			f.Close()
			if !bytes.Equal(magic[:n], []byte("\x7fELF")) {
				out = append(out, p)
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no file in /etc or /bin that is not an ELF executable")
	}
	return out, nil
}

// refusedErrno says whether e is how a refused file fails: not
// executable (EACCES) or not a program the loader accepts (ENOEXEC).
func refusedErrno(e error) bool {
	return errors.Is(e, syscall.EACCES) || errors.Is(e, syscall.ENOEXEC)
}

// testSpawnRefusedReason spawns (three ways) every file of /etc and /bin
// that is not an ELF executable: each must be refused with EACCES or
// ENOEXEC and nothing started. The kernel logs why, once per attempt
// ("proc: pid N (attacks): spawn /etc/motd refused (EACCES): ..."); the
// end-to-end test reads that from the console. Then it floods the kernel
// with refused spawns, which the per-process rate limit must absorb.
func testSpawnRefusedReason() error {
	if err := noChildren(); err != nil {
		return err
	}
	files, err := refusable()
	if err != nil {
		return err
	}
	var pid int32
	for _, f := range files {
		if _, err := libos.Spawn(f, []string{path.Base(f)}, nil); !refusedErrno(err) {
			return fmt.Errorf("spawn %s: %v, want EACCES or ENOEXEC", f, err)
		}
		if _, e := procSpawnRaw(f, []string{path.Base(f)}, nil, uintptr(unsafe.Pointer(&pid))); !refusedErrno(e) {
			return fmt.Errorf("proc-spawn %s: %v, want EACCES or ENOEXEC", f, e)
		}
		if err := exec.Command(f).Run(); !refusedErrno(err) {
			return fmt.Errorf("execve %s: %v, want EACCES or ENOEXEC", f, err)
		}
		if err := noChildStarted("spawn " + f); err != nil {
			return err
		}
	}
	for i := range 200 {
		if _, err := libos.Spawn(files[0], nil, nil); !refusedErrno(err) {
			return fmt.Errorf("refused spawn %d of %s: %v", i, files[0], err)
		}
	}
	return noChildStarted("flood of refused spawns")
}
