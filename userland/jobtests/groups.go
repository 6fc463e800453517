package main

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// group-ids: a child starts in its parent's group and session, keeps
// them across execve, and moves to a group of its own with setpgid (as
// os/exec's Setpgid does between fork and exec); getpgid and getsid of
// others, of 0, of nobody.
func testGroupIDs() error {
	me, mySid := syscall.Getpgrp(), mustSid(0)
	if g, err := syscall.Getpgid(0); err != nil || g != me {
		return fmt.Errorf("getpgid(0) = %d, %v; getpgrp = %d", g, err, me)
	}
	if s := mustSid(os.Getpid()); s != mySid {
		return fmt.Errorf("getsid(self) = %d, getsid(0) = %d", s, mySid)
	}
	plain, err := child{}.start("sleep")
	if err != nil {
		return err
	}
	own, err := child{attr: inGroup(0)}.start("sleep")
	if err != nil {
		return err
	}
	joined, err := child{attr: inGroup(own)}.start("sleep")
	if err != nil {
		return err
	}
	for _, c := range []struct {
		what      string
		pid, want int
	}{{"a plain child", plain, me}, {"a child with Setpgid", own, own}, {"a child joining its group", joined, own}} {
		if g, err := syscall.Getpgid(c.pid); err != nil || g != c.want {
			return fmt.Errorf("%s: getpgid = %d, %v; want %d", c.what, g, err, c.want)
		}
		if s := mustSid(c.pid); s != mySid {
			return fmt.Errorf("%s: getsid = %d, want %d", c.what, s, mySid)
		}
	}
	if _, err := syscall.Getpgid(1 << 30); err != syscall.ESRCH {
		return fmt.Errorf("getpgid of nobody: %v, want ESRCH", err)
	}
	if _, err := unix.Getsid(1 << 30); err != syscall.ESRCH {
		return fmt.Errorf("getsid of nobody: %v, want ESRCH", err)
	}
	return nil
}

// setpgid-rules: setpgid's errors, each as Linux gives it.
func testSetpgidRules() error {
	// A child that has run a program: EACCES.
	execed, err := child{}.start("sleep")
	if err != nil {
		return err
	}
	time.Sleep(50 * time.Millisecond)
	if err := expectErrno("setpgid of a child after its execve", syscall.Setpgid(execed, execed), syscall.EACCES); err != nil {
		return err
	}
	// A child in another session: EPERM, before EACCES.
	other, err := child{}.start("setsid", "group")
	if err != nil {
		return err
	}
	if !eventually(5*time.Second, func() bool { return mustSid(other) == other }) {
		return fmt.Errorf("the child did not make a session")
	}
	if err := expectErrno("setpgid of a child in another session", syscall.Setpgid(other, other), syscall.EPERM); err != nil {
		return err
	}
	// From a child of the test's session: the other session's group is
	// EPERM, a group that does not exist EPERM, a negative group EINVAL,
	// its parent ESRCH, a thread's ID... (a process here), its own group
	// fine, and the group of a sibling fine.
	sib, err := child{attr: inGroup(0)}.start("sleep")
	if err != nil {
		return err
	}
	for _, c := range []struct {
		what      string
		pid, pgid int
		want      syscall.Errno
	}{
		{"into another session's group", 0, other, syscall.EPERM},
		{"into a group that does not exist", 0, 1 << 30, syscall.EPERM},
		{"a negative group", 0, -4, syscall.EINVAL},
		{"of its parent", os.Getpid(), 0, syscall.ESRCH},
		{"of a sibling", sib, sib, syscall.ESRCH},
		{"of nobody", 1 << 30, 0, syscall.ESRCH},
		{"into a sibling's group", 0, sib, 0},
		{"into a group of its own", 0, 0, 0},
	} {
		pid, err := child{}.start("setpgid", strconv.Itoa(c.pid), strconv.Itoa(c.pgid), strconv.Itoa(int(c.want)))
		if err != nil {
			return err
		}
		if err := expectDeath(pid, 0, 0); err != nil {
			return fmt.Errorf("setpgid %s: %v (the child says why above)", c.what, err)
		}
	}
	return nil
}

// setsid-rules: a group leader may not setsid (EPERM); after setsid the
// caller leads a session and a group, and may neither setsid again nor
// setpgid.
func testSetsidRules() error {
	if os.Getpid() == syscall.Getpgrp() { // else it would work, and move this process
		if _, err := syscall.Setsid(); err != syscall.EPERM {
			return fmt.Errorf("setsid by a group leader: %v, want EPERM", err)
		}
	}
	for _, what := range []string{"ids", "again", "setpgid"} {
		pid, err := child{}.start("setsid", what)
		if err != nil {
			return err
		}
		if err := expectDeath(pid, 0, 0); err != nil {
			return fmt.Errorf("setsid then %s: %v", what, err)
		}
	}
	// A child that leads a group cannot start a session.
	pid, err := child{attr: inGroup(0)}.start("setsid", "eperm")
	if err != nil {
		return err
	}
	return expectDeath(pid, 0, 0)
}

// kill-group: kill(-pgid) reaches every member of a group, and only it;
// an empty group is ESRCH; kill(0) from a child in a group of its own
// ends the child and its group and nothing else.
func testKillGroup() error {
	hb, err := newHeartbeat()
	if err != nil {
		return err
	}
	defer hb.close()
	leader, err := child{attr: inGroup(0), extra: []*os.File{hb.w}}.start("beat-pair")
	if err != nil {
		return err
	}
	bystander, err := child{attr: inGroup(0)}.start("sleep")
	if err != nil {
		return err
	}
	if !hb.alive(5 * time.Second) {
		return fmt.Errorf("the group does not beat")
	}
	hb.w.Close()
	if err := syscall.Kill(-leader, syscall.SIGTERM); err != nil {
		return fmt.Errorf("kill(-%d): %v", leader, err)
	}
	if err := expectDeath(leader, syscall.SIGTERM, 0); err != nil {
		return err
	}
	if !hb.closed(10 * time.Second) {
		return fmt.Errorf("the leader's child still beats after kill(-pgid)")
	}
	// The bystander, in another group, lives.
	if err := syscall.Kill(bystander, 0); err != nil {
		return fmt.Errorf("the process in another group: %v", err)
	}
	// A group of two children: once both are reaped, it is gone.
	a, err := child{attr: inGroup(0)}.start("sleep")
	if err != nil {
		return err
	}
	b, err := child{attr: inGroup(a)}.start("sleep")
	if err != nil {
		return err
	}
	if err := syscall.Kill(-a, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill(-%d): %v", a, err)
	}
	for _, pid := range []int{a, b} {
		if err := expectDeath(pid, syscall.SIGKILL, 0); err != nil {
			return err
		}
	}
	if err := syscall.Kill(-a, syscall.SIGTERM); err != syscall.ESRCH {
		return fmt.Errorf("kill of an emptied group: %v, want ESRCH", err)
	}
	if err := syscall.Kill(-(1 << 30), 0); err != syscall.ESRCH {
		return fmt.Errorf("kill of a group that never was: %v, want ESRCH", err)
	}
	// kill(0) from a child in its own group.
	hb2, err := newHeartbeat()
	if err != nil {
		return err
	}
	defer hb2.close()
	k, err := child{attr: inGroup(0), extra: []*os.File{hb2.w}}.start("kill0")
	if err != nil {
		return err
	}
	hb2.w.Close()
	if err := expectDeath(k, syscall.SIGTERM, 0); err != nil {
		return fmt.Errorf("kill(0) from a child: %v", err)
	}
	if !hb2.closed(10 * time.Second) {
		return fmt.Errorf("kill(0) did not reach the child's own child")
	}
	return syscall.Kill(bystander, 0)
}

// kill-from-child: Valence only (on Linux a root child's kill(-1) would
// signal the whole machine): kill(-1) from a child reaches its
// descendants and neither itself, its parent nor the first process; a
// child in its parent's group that sends kill(0) reaches itself, not the
// parent. Valence's signal rule: a process signals itself and its
// descendants.
func testKillFromChild() error {
	if !onValence() {
		fmt.Println("jobtests: kill-from-child: Linux lets a child signal its parent; checking Valence's rule only there")
		return nil
	}
	probe := make(chan os.Signal, 4)
	signal.Notify(probe, syscall.SIGUSR2, syscall.SIGTERM)
	defer signal.Stop(probe)
	hb, err := newHeartbeat()
	if err != nil {
		return err
	}
	defer hb.close()
	k, err := child{extra: []*os.File{hb.w}}.start("kill-1")
	if err != nil {
		return err
	}
	hb.w.Close()
	if err := expectDeath(k, 0, 0); err != nil {
		return fmt.Errorf("kill(-1) from a child: %v", err)
	}
	if !hb.closed(10 * time.Second) {
		return fmt.Errorf("kill(-1) did not reach the child's child")
	}
	up, err := child{}.start("kill0-up")
	if err != nil {
		return err
	}
	if err := expectDeath(up, 0, 0); err != nil {
		return fmt.Errorf("kill(0) in the parent's group: %v", err)
	}
	select {
	case s := <-probe:
		return fmt.Errorf("a child's kill reached its parent: %v", s)
	case <-time.After(300 * time.Millisecond):
	}
	return nil
}

// wait-group: wait4(-pgid), wait4(0) and waitid(P_PGID) wait for the
// members of a group only; ECHILD when the group has no child.
func testWaitGroup() error {
	a, err := child{attr: inGroup(0)}.start("exit", "11")
	if err != nil {
		return err
	}
	b, err := child{attr: inGroup(a)}.start("exit", "12")
	if err != nil {
		return err
	}
	mine, err := child{}.start("exit", "13") // in this process's group
	if err != nil {
		return err
	}
	got := map[int]int{}
	for range 2 {
		wpid, ws, err := wait4(-a, 0)
		if err != nil {
			return fmt.Errorf("wait4(-%d): %v", a, err)
		}
		got[wpid] = ws.ExitStatus()
	}
	if got[a] != 11 || got[b] != 12 {
		return fmt.Errorf("wait4(-pgid) returned %v, want %d:11 and %d:12", got, a, b)
	}
	if _, _, err := wait4(-a, syscall.WNOHANG); err != syscall.ECHILD {
		return fmt.Errorf("wait4 for an emptied group: %v, want ECHILD", err)
	}
	if wpid, ws, err := wait4(0, 0); err != nil || wpid != mine || ws.ExitStatus() != 13 {
		return fmt.Errorf("wait4(0) = %d, %s, %v; want %d exited 13", wpid, describe(ws), err, mine)
	}
	c, err := child{attr: inGroup(0)}.start("exit", "14")
	if err != nil {
		return err
	}
	info, err := waitid(unix.P_PGID, c, unix.WEXITED)
	if err != nil || int(info.pid) != c || info.code != cldExited || info.status != 14 {
		return fmt.Errorf("waitid(P_PGID) = %+v, %v; want pid %d CLD_EXITED 14", info, err, c)
	}
	if _, err := waitid(unix.P_PGID, c, unix.WEXITED|unix.WNOHANG); err != syscall.ECHILD {
		return fmt.Errorf("waitid(P_PGID) for an emptied group: %v, want ECHILD", err)
	}
	if _, err := waitid(unix.P_PGID, -3, unix.WEXITED); err != syscall.EINVAL {
		return fmt.Errorf("waitid(P_PGID, -3): %v, want EINVAL", err)
	}
	if _, err := waitid(unix.P_ALL, 0, 0); err != syscall.EINVAL {
		return fmt.Errorf("waitid without WEXITED, WSTOPPED or WCONTINUED: %v, want EINVAL", err)
	}
	return nil
}
