package main

// Memory exhaustion, attacked: kernel objects created and dropped in a
// loop, a spawn flood, a process hoarding memory objects while the first
// process needs a page, and the per-process limits (RLIMIT_AS,
// RLIMIT_DATA, RLIMIT_NPROC, the memory-object limit). The kernel must
// refuse (ENOMEM, EAGAIN) or kill the biggest offender, never die, and
// never pick the first process while anything else can go.

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"valence.dev/ipc"
	"valence.dev/libos"
)

func init() {
	addTest("endpoint-churn", testEndpointChurn)
	addTest("rlimit", testRlimit)
	addTest("mem-object-limit", testMemObjectLimit)
	addTest("spawn-flood", testSpawnFlood)
	addTest("thread-limit", testThreadLimit)
	addTest("oom-victim", testOOMVictim)
	addRole("flood", roleFlood)
	addRole("flood-child", roleFloodChild)
	addRole("hog", roleHog)
	addRole("rlimit", roleRlimit)
	addRole("rlimit-show", roleRlimitShow)
	addRole("memlimit", roleMemLimit)
	addRole("threads", roleThreads)
}

// omKernelBytes is the memory that is neither free nor in user address
// spaces: the kernel's heap, page tables and memory objects.
func omKernelBytes(m ipc.MemInfo) int64 {
	return int64(m.Total) - int64(m.Free) - int64(m.UserPages)
}

// testEndpointChurn creates and closes endpoints in a loop. Every closed
// endpoint must give its memory back: the kernel once kept each in a
// per-process list forever (about 200 bytes an iteration, so 4.7 million
// iterations killed a 1 GiB machine). The loop is long enough for that
// leak to show as tens of MiB; without it the kernel's use moves only by
// its heap's slack. The caller's charge must also grow with live
// endpoints and shrink when they go.
func testEndpointChurn() error {
	churn := func(n int) error {
		for i := 0; i < n; i++ {
			h, err := libos.NewEndpoint()
			if err != nil {
				return fmt.Errorf("iteration %d: %v", i, err)
			}
			if err := libos.Close(h); err != nil {
				return fmt.Errorf("iteration %d: %v", i, err)
			}
		}
		return nil
	}
	if err := churn(20000); err != nil { // warm up: the kernel heap finds its size
		return err
	}
	before, err := libos.MemInfo()
	if err != nil {
		return err
	}
	const n = 200000
	t0 := time.Now()
	if err := churn(n); err != nil {
		return err
	}
	after, err := libos.MemInfo()
	if err != nil {
		return err
	}
	grew := omKernelBytes(after) - omKernelBytes(before)
	live := int64(after.KernelLive) - int64(before.KernelLive)
	fmt.Printf("attacks: endpoint-churn: %d cycles in %v: kernel memory %+d KiB, live kernel heap %+d KiB\n",
		n, time.Since(t0).Round(time.Millisecond), grew>>10, live>>10)
	if grew > 16<<20 || live > 8<<20 {
		return fmt.Errorf("kernel memory grew by %d KiB (live heap %+d KiB) over %d endpoint create/close cycles: closed endpoints are kept", grew>>10, live>>10, n)
	}
	// Live endpoints are charged to their creator.
	var hs []ipc.Handle
	for i := 0; i < 1000; i++ {
		h, err := libos.NewEndpoint()
		if err != nil {
			return err
		}
		hs = append(hs, h)
	}
	mid, err := libos.MemInfo()
	if err != nil {
		return err
	}
	for _, h := range hs {
		libos.Close(h)
	}
	end, err := libos.MemInfo()
	if err != nil {
		return err
	}
	c0, c1, c2 := omObjCharge(after), omObjCharge(mid), omObjCharge(end)
	if c1 < c0+1000*64 || c2 >= c1 {
		return fmt.Errorf("charge for kernel objects %d KiB, with 1000 more endpoints %d KiB, after closing them %d KiB: endpoints are not charged to their creator",
			c0>>10, c1>>10, c2>>10)
	}
	return nil
}

// omObjCharge is the caller's charge for everything but its own pages
// (which its runtime changes at will): kernel objects and memory objects.
func omObjCharge(m ipc.MemInfo) int64 { return int64(m.Charge) - int64(m.Self) }

// omStart starts this program in a role with os/exec, its output read
// through the returned scanner.
func omStart(env []string, name string, args ...string) (*exec.Cmd, *bufio.Scanner, error) {
	cmd := exec.Command(self(), append([]string{"role", name}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	return cmd, bufio.NewScanner(out), nil
}

// omRun runs a role to its end and returns its output; a role reports
// failure with a non-zero exit.
func omRun(env []string, name string, args ...string) (string, error) {
	cmd, out, err := omStart(env, name, args...)
	if err != nil {
		return "", err
	}
	var lines []string
	for out.Scan() {
		lines = append(lines, out.Text())
	}
	err = cmd.Wait()
	text := strings.Join(lines, "\n")
	if err != nil {
		return text, fmt.Errorf("role %s: %v; it said:\n%s", name, err, text)
	}
	return text, nil
}

// testRlimit runs the limits checks in a child, so that a kernel that
// ignores them hurts only the child.
func testRlimit() error {
	out, err := omRun([]string{"GOGC=off"}, "rlimit")
	if err != nil {
		return err
	}
	if !strings.Contains(out, "rlimit: done") {
		return fmt.Errorf("the rlimit role did not finish:\n%s", out)
	}
	return nil
}

const rlimInf = libos.RlimInfinity

// rlimitNproc is RLIMIT_NPROC, which package syscall does not define.
const rlimitNproc = 6

// omMmap maps length bytes of anonymous memory with prot.
func omMmap(length uintptr, prot int) (uintptr, syscall.Errno) {
	r, _, e := syscall.RawSyscall6(syscall.SYS_MMAP, 0, length, uintptr(prot), syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS, ^uintptr(0), 0)
	return r, e
}

func omMunmap(addr, length uintptr) {
	syscall.RawSyscall(syscall.SYS_MUNMAP, addr, length, 0)
}

func omBrk(addr uintptr) uintptr {
	r, _, _ := syscall.RawSyscall(syscall.SYS_BRK, addr, 0, 0)
	return r
}

// roleRlimit checks RLIMIT_AS, RLIMIT_DATA, the hard-limit rule and
// inheritance. It runs with GOGC=off and makes no Go allocation while a
// tight limit is in force, because the Go runtime itself would then fail.
func roleRlimit([]string) int {
	fail := func(format string, args ...any) int {
		fmt.Printf("rlimit: FAIL "+format+"\n", args...)
		return 1
	}
	set := func(res int, cur, max uint64) error {
		_, err := libos.Prlimit(0, res, &libos.Rlimit{Cur: cur, Max: max})
		return err
	}
	get := func(res int) libos.Rlimit {
		r, _ := libos.Prlimit(0, res, nil)
		return r
	}
	// The defaults: no limit on address space or data.
	if r := get(syscall.RLIMIT_AS); r.Cur != rlimInf || r.Max != rlimInf {
		return fail("RLIMIT_AS starts at %+v, want unlimited", r)
	}
	const chunk = 1 << 20
	// RLIMIT_AS: with the soft limit at 1 MiB (far below what the Go
	// runtime has reserved), any new mapping fails with ENOMEM; taking
	// the soft limit back up to the hard limit is allowed.
	if err := set(syscall.RLIMIT_AS, 1<<20, rlimInf); err != nil {
		return fail("setting RLIMIT_AS: %v", err)
	}
	a, e1 := omMmap(chunk, syscall.PROT_NONE)
	if e1 == 0 {
		omMunmap(a, chunk)
	}
	err := set(syscall.RLIMIT_AS, rlimInf, rlimInf)
	if e1 != syscall.ENOMEM {
		return fail("mmap of 1 MiB under RLIMIT_AS=1MiB: %v, want ENOMEM", e1)
	}
	if err != nil {
		return fail("raising RLIMIT_AS back to the hard limit: %v", err)
	}
	if a, e := omMmap(chunk, syscall.PROT_NONE); e != 0 {
		return fail("mmap after lifting RLIMIT_AS: %v", e)
	} else {
		omMunmap(a, chunk)
	}
	// RLIMIT_DATA counts private writable memory and the brk heap, not
	// inaccessible reservations.
	brk0 := omBrk(0)
	if err := set(syscall.RLIMIT_DATA, 1<<20, rlimInf); err != nil {
		return fail("setting RLIMIT_DATA: %v", err)
	}
	_, e1 = omMmap(chunk, syscall.PROT_READ|syscall.PROT_WRITE)
	a2, e2 := omMmap(chunk, syscall.PROT_NONE)
	brk1 := omBrk(brk0 + 64<<20)
	err = set(syscall.RLIMIT_DATA, rlimInf, rlimInf)
	if e1 != syscall.ENOMEM {
		return fail("writable mmap under RLIMIT_DATA=1MiB: %v, want ENOMEM", e1)
	}
	if e2 != 0 {
		return fail("PROT_NONE mmap under RLIMIT_DATA=1MiB: %v, want success", e2)
	}
	omMunmap(a2, chunk)
	if brk1 != brk0 {
		omBrk(brk0)
		return fail("brk grew by 64 MiB under RLIMIT_DATA=1MiB (%#x -> %#x)", brk0, brk1)
	}
	if err != nil {
		return fail("raising RLIMIT_DATA back: %v", err)
	}
	fmt.Println("rlimit: RLIMIT_AS and RLIMIT_DATA enforced")
	// Hard limits: lowering is always allowed, raising above them is
	// EPERM, and a soft limit above the hard one is EINVAL.
	if err := set(syscall.RLIMIT_AS, 1<<40, 1<<40); err != nil {
		return fail("lowering the hard RLIMIT_AS: %v", err)
	}
	if err := set(syscall.RLIMIT_AS, 1<<40, 2<<40); !errors.Is(err, syscall.EPERM) {
		return fail("raising the hard RLIMIT_AS: %v, want EPERM", err)
	}
	if err := set(syscall.RLIMIT_AS, 2<<40, 1<<40); !errors.Is(err, syscall.EINVAL) {
		return fail("soft RLIMIT_AS above the hard one: %v, want EINVAL", err)
	}
	if r := get(syscall.RLIMIT_AS); r.Cur != 1<<40 || r.Max != 1<<40 {
		return fail("RLIMIT_AS is %+v after the refused calls, want 1 TiB/1 TiB", r)
	}
	if err := set(syscall.RLIMIT_DATA, 1<<39, 1<<40); err != nil {
		return fail("setting RLIMIT_DATA: %v", err)
	}
	if err := set(rlimitNproc, 50, 60); err != nil {
		return fail("setting RLIMIT_NPROC: %v", err)
	}
	fmt.Println("rlimit: hard limits hold")
	// Children inherit the limits, through os/exec (vfork + execve) and
	// through the native spawn; prlimit64 reads a child's.
	want := fmt.Sprintf("AS %d %d DATA %d %d NPROC 50 60", uint64(1<<40), uint64(1<<40), uint64(1<<39), uint64(1<<40))
	out, err := exec.Command(self(), "role", "rlimit-show").Output()
	if got := strings.TrimSpace(string(out)); err != nil || got != want {
		return fail("a child started with os/exec reports %q (%v), want %q", got, err, want)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fail("pipe: %v", err)
	}
	show := exec.Command(self(), "role", "rlimit-show", "wait")
	show.Stdout = w
	stdin, _ := show.StdinPipe()
	if err := show.Start(); err != nil {
		return fail("starting rlimit-show: %v", err)
	}
	w.Close()
	line, _ := bufio.NewReader(r).ReadString('\n')
	cr, err := libos.Prlimit(show.Process.Pid, syscall.RLIMIT_DATA, nil)
	if err != nil || cr.Cur != 1<<39 {
		return fail("prlimit64 on the child: %+v, %v", cr, err)
	}
	if _, err := libos.Prlimit(show.Process.Pid, syscall.RLIMIT_DATA, &libos.Rlimit{Cur: 1 << 38, Max: 1 << 40}); err != nil {
		return fail("lowering the child's RLIMIT_DATA: %v", err)
	}
	stdin.Close()
	rest, _ := bufio.NewReader(r).ReadString('\n')
	show.Wait()
	if strings.TrimSpace(line) != want {
		return fail("a waiting child reports %q, want %q", line, want)
	}
	if !strings.Contains(rest, fmt.Sprintf("DATA %d ", uint64(1<<38))) {
		return fail("after prlimit64 on it the child reports %q", rest)
	}
	if _, err := libos.Prlimit(1, syscall.RLIMIT_DATA, &libos.Rlimit{Cur: 0, Max: 0}); !errors.Is(err, syscall.EPERM) {
		return fail("prlimit64 on the first process: %v, want EPERM", err)
	}
	fmt.Println("rlimit: inherited")
	fmt.Println("rlimit: done")
	return 0
}

// roleRlimitShow prints its limits; with "wait" it prints them again
// after its standard input closes.
func roleRlimitShow(args []string) int {
	show := func() {
		g := func(res int) libos.Rlimit { r, _ := libos.Prlimit(0, res, nil); return r }
		as, data, nproc := g(syscall.RLIMIT_AS), g(syscall.RLIMIT_DATA), g(rlimitNproc)
		fmt.Printf("AS %d %d DATA %d %d NPROC %d %d\n", as.Cur, as.Max, data.Cur, data.Max, nproc.Cur, nproc.Max)
	}
	show()
	if len(args) > 0 && args[0] == "wait" {
		var b [1]byte
		os.Stdin.Read(b[:])
		show()
	}
	return 0
}

// testMemObjectLimit runs the memory-object limit checks in a child.
func testMemObjectLimit() error {
	out, err := omRun(nil, "memlimit")
	if err != nil {
		return err
	}
	if !strings.Contains(out, "memlimit: done") {
		return fmt.Errorf("the memlimit role did not finish:\n%s", out)
	}
	return nil
}

// roleMemLimit: memory objects count against their creator's
// ipc.RlimitMemObjects until they are freed, even when someone else holds
// them.
func roleMemLimit([]string) int {
	fail := func(format string, args ...any) int {
		fmt.Printf("memlimit: FAIL "+format+"\n", args...)
		return 1
	}
	const obj = 4 << 20
	if _, err := libos.Prlimit(0, ipc.RlimitMemObjects, &libos.Rlimit{Cur: 2 * obj, Max: 2 * obj}); err != nil {
		return fail("setting the memory-object limit: %v", err)
	}
	if _, err := libos.Prlimit(0, ipc.RlimitMemObjects, &libos.Rlimit{Cur: 4 * obj, Max: 4 * obj}); !errors.Is(err, syscall.EPERM) {
		return fail("raising the memory-object limit above its hard limit: %v, want EPERM", err)
	}
	m0, _ := libos.MemInfo()
	a, err := libos.NewMemory(obj)
	if err != nil {
		return fail("first object: %v", err)
	}
	b, err := libos.NewMemory(obj)
	if err != nil {
		return fail("second object: %v", err)
	}
	m1, _ := libos.MemInfo()
	if omObjCharge(m1) < omObjCharge(m0)+2*obj {
		return fail("charge went from %d to %d KiB with 8 MiB of memory objects", omObjCharge(m0)>>10, omObjCharge(m1)>>10)
	}
	if _, err := libos.NewMemory(obj); !errors.Is(err, syscall.ENOMEM) {
		return fail("an object beyond the limit: %v, want ENOMEM", err)
	}
	if _, err := libos.NewMemory(1 << 30); !errors.Is(err, syscall.ENOMEM) && !errors.Is(err, syscall.EINVAL) {
		return fail("a 1 GiB object: %v, want ENOMEM or EINVAL", err)
	}
	// Give b to a child and drop our handle: b still exists, so it still
	// counts against us.
	ph, _, err := libos.ProcSpawn(self(), []string{"attacks", "role", "sleeper"}, nil, []ipc.Handle{b})
	if err != nil {
		return fail("spawning a holder: %v", err)
	}
	libos.Close(b)
	if _, err := libos.NewMemory(obj); !errors.Is(err, syscall.ENOMEM) {
		return fail("an object beyond the limit while a child holds one: %v, want ENOMEM", err)
	}
	// When the holder dies, b is freed and the room comes back.
	libos.ProcKill(ph, syscall.SIGKILL)
	libos.ProcWait(ph)
	c, err := libos.NewMemory(obj)
	if err != nil {
		return fail("an object after the holder died: %v", err)
	}
	libos.Close(a)
	libos.Close(c)
	m2, _ := libos.MemInfo()
	if omObjCharge(m2) > omObjCharge(m0)+obj/2 {
		return fail("charge %d KiB after closing everything, was %d KiB", omObjCharge(m2)>>10, omObjCharge(m0)>>10)
	}
	fmt.Println("memlimit: done")
	return 0
}

// testSpawnFlood: a child spawns children until the kernel refuses. With
// RLIMIT_NPROC set to 16 it must get EAGAIN at exactly 16 live
// descendants; with the default limits it must get EAGAIN or ENOMEM,
// never take the kernel down (it once panicked at about 180 processes).
// Everything must be reaped afterwards.
func testSpawnFlood() error {
	before, err := libos.MemInfo()
	if err != nil {
		return err
	}
	out, err := omRun(nil, "flood", "16")
	if err != nil {
		return err
	}
	if !strings.Contains(out, "flood: spawned 16: EAGAIN") {
		return fmt.Errorf("with RLIMIT_NPROC=16: %s", out)
	}
	out, err = omRun(nil, "flood", "0")
	if err != nil {
		return err
	}
	fmt.Printf("attacks: spawn-flood: %s\n", strings.ReplaceAll(out, "\n", "; "))
	if !strings.Contains(out, "EAGAIN") && !strings.Contains(out, "ENOMEM") {
		return fmt.Errorf("the flood ended with: %s", out)
	}
	// Every child is gone: the pages other processes hold are back.
	deadline := time.Now().Add(generous)
	for {
		after, err := libos.MemInfo()
		if err != nil {
			return err
		}
		others := int64(after.UserPages-after.Self) - int64(before.UserPages-before.Self)
		if others <= 64<<10 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("other processes still hold %d KiB more than before the flood", others>>10)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// roleFlood spawns flood-child processes until refused (after setting
// its RLIMIT_NPROC to args[0], unless that is 0), then kills and reaps
// them.
func roleFlood(args []string) int {
	limit, _ := strconv.Atoi(args[0])
	if limit > 0 {
		if _, err := libos.Prlimit(0, rlimitNproc, &libos.Rlimit{Cur: uint64(limit), Max: uint64(limit)}); err != nil {
			fmt.Printf("flood: setting RLIMIT_NPROC: %v\n", err)
			return 1
		}
	}
	m0, _ := libos.MemInfo()
	var pids []int
	var why error
	for len(pids) < 100000 {
		pid, err := libos.Spawn(self(), []string{"attacks", "role", "flood-child"}, nil)
		if err != nil {
			why = err
			break
		}
		pids = append(pids, pid)
	}
	name := "?"
	switch {
	case errors.Is(why, syscall.EAGAIN):
		name = "EAGAIN"
	case errors.Is(why, syscall.ENOMEM):
		name = "ENOMEM"
	}
	fmt.Printf("flood: spawned %d: %s (%v)\n", len(pids), name, why)
	if m1, _ := libos.MemInfo(); len(pids) > 0 {
		n := int64(len(pids))
		fmt.Printf("flood: per child: %d KiB of user memory, %d KiB of kernel heap (%d KiB live)\n",
			(int64(m1.UserPages-m1.Self)-int64(m0.UserPages-m0.Self))/n>>10,
			(int64(m1.Kernel)-int64(m0.Kernel))/n>>10, (int64(m1.KernelLive)-int64(m0.KernelLive))/n>>10)
	}
	for _, pid := range pids {
		libos.Kill(pid, syscall.SIGKILL)
	}
	for _, pid := range pids {
		libos.Wait(pid)
	}
	fmt.Printf("flood: reaped %d\n", len(pids))
	return 0
}

// roleFloodChild sleeps until its parent is gone (so nothing outlives a
// flood whose parent was killed).
func roleFloodChild([]string) int {
	ppid := os.Getppid()
	for os.Getppid() == ppid {
		time.Sleep(250 * time.Millisecond)
	}
	return 0
}

// testOOMVictim: a child hoards memory objects until the kernel refuses
// more and then sleeps; this process (the first one) then touches more
// pages than are free. The hoarder must be the one killed, and this
// process must carry on. The kernel once killed whoever faulted next,
// the first process included, which powered the machine off.
func testOOMVictim() error {
	hog, out, err := omStart(nil, "hog")
	if err != nil {
		return err
	}
	defer func() { hog.Process.Kill(); hog.Wait() }()
	if !out.Scan() {
		return errors.New("the hog said nothing")
	}
	held := out.Text()
	if !strings.HasPrefix(held, "hog: holding") {
		return fmt.Errorf("the hog said %q", held)
	}
	m, err := libos.MemInfo()
	if err != nil {
		return err
	}
	// More than is free: the kernel must take memory from someone.
	size := uintptr(m.Free+64<<20) &^ 4095
	a, e := omMmap(size, syscall.PROT_READ|syscall.PROT_WRITE)
	if e != 0 {
		return fmt.Errorf("mmap of %d MiB: %v", size>>20, e)
	}
	b := unsafe.Slice((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&a))), size)
	for i := uintptr(0); i < size; i += 4096 {
		b[i] = 1
	}
	omMunmap(a, size)
	if err := waitWithin(hog, generous); err == nil {
		return errors.New("the hog exited on its own")
	}
	st := hog.ProcessState.Sys().(syscall.WaitStatus)
	if !st.Signaled() || st.Signal() != syscall.SIGKILL {
		return fmt.Errorf("the hog ended with %v, want SIGKILL", st)
	}
	fmt.Printf("attacks: oom-victim: %s; touched %d MiB; the hog was killed\n", held, size>>20)
	return nil
}

// roleHog creates 8 MiB memory objects until refused, says how much it
// holds, and sleeps.
func roleHog([]string) int {
	var n uint64
	var why error
	for {
		if _, err := libos.NewMemory(8 << 20); err != nil {
			why = err
			break
		}
		n += 8 << 20
	}
	fmt.Printf("hog: holding %d MiB of memory objects (%v)\n", n>>20, why)
	time.Sleep(time.Hour)
	return 0
}

// testThreadLimit: a process may have at most its ipc.RlimitThreads
// threads. A Go program that needs more dies of the runtime's own "failed
// to create new OS thread", as on Linux at RLIMIT_NPROC; the kernel and
// everyone else carry on. With the default limit, 200 threads are fine.
func testThreadLimit() error {
	out, err := omRun(nil, "threads", "0", "200")
	if err != nil {
		return err
	}
	fmt.Printf("attacks: thread-limit: %s\n", out)
	cmd := exec.Command(self(), "role", "threads", "32", "100")
	text, err := cmd.CombinedOutput()
	st, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if err == nil || !st.Exited() || st.ExitStatus() != 2 || !strings.Contains(string(text), "failed to create new OS thread") {
		return fmt.Errorf("100 threads under a limit of 32: %v, status %v, output:\n%s", err, st, omTail(string(text), 800))
	}
	return nil
}

// omTail is the end of a long output.
func omTail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// roleThreads sets its thread limit to args[0] (unless 0) and then has
// args[1] threads blocked in a system call at once.
func roleThreads(args []string) int {
	limit, _ := strconv.Atoi(args[0])
	n, _ := strconv.Atoi(args[1])
	if limit > 0 {
		if _, err := libos.Prlimit(0, ipc.RlimitThreads, &libos.Rlimit{Cur: uint64(limit), Max: uint64(limit)}); err != nil {
			fmt.Printf("threads: setting the thread limit: %v\n", err)
			return 1
		}
	}
	var fds [2]int
	if err := syscall.Pipe(fds[:]); err != nil {
		fmt.Printf("threads: pipe: %v\n", err)
		return 1
	}
	started := make(chan bool)
	for i := 0; i < n; i++ {
		go func() {
			runtime.LockOSThread() // a thread of its own, blocked in read
			started <- true
			var b [1]byte
			syscall.Read(fds[0], b[:])
		}()
		<-started
	}
	time.Sleep(time.Second) // let the last ones block
	syscall.Close(fds[1])   // every reader sees end of file
	fmt.Printf("threads: %d blocked at once", n)
	return 0
}
