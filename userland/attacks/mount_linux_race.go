package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"valence.dev/libos"
)

// linux-mount-abuse, continued: bind mounts and umount2 raced against
// lookups below the same targets and against unshare in children, and
// bind mounts until the namespace's table is full. The targets lie
// below a lying file server mounted at /tmp (mount_abuse.go's, which
// says every name is a directory), since the initfs makes no
// directories.

// lmRaceTargets are the mount points raced on; the last lies below the
// first, so that umount2 of the first meets a mount below it.
var lmRaceTargets = []string{"/tmp/r0", "/tmp/r1", "/tmp/r2", "/tmp/r0/n"}

// lmRaceSources are what is bind-mounted there: the initfs, /dev and
// /proc, each served differently.
var lmRaceSources = []string{"/etc", "/bin", "/dev", "/proc"}

// lmRaceTime is how long the race runs.
const lmRaceTime = 2 * time.Second

// lmMountLiarDirs mounts the lying file server at /tmp.
func lmMountLiarDirs() error {
	h, err := liar(true)
	if err != nil {
		return err
	}
	return libos.Mount(liarTarget, h, 0)
}

// lmUnmountLiarDirs unmounts it, waiting out a file still closing.
func lmUnmountLiarDirs() error {
	var e syscall.Errno
	for range 20 {
		if e = lmUmount2(liarTarget, 0); e != syscall.EBUSY {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if e != 0 {
		return fmt.Errorf("umount2 of the lying server at %s: %s", liarTarget, errnoName(e))
	}
	return nil
}

// lmErrnos counts the outcomes of raced calls.
type lmErrnos struct {
	mu sync.Mutex
	n  map[string]int
}

func (s *lmErrnos) add(what string, e syscall.Errno) {
	s.mu.Lock()
	if s.n == nil {
		s.n = map[string]int{}
	}
	s.n[what+"="+errnoName(e)]++
	s.mu.Unlock()
}

func (s *lmErrnos) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k, v := range s.n {
		out = append(out, fmt.Sprintf("%s:%d", k, v))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func lmRaces(c *lmChecks) error {
	if err := lmMountLiarDirs(); err != nil {
		return fmt.Errorf("races: %w", err)
	}
	var stop atomic.Bool
	var children atomic.Int32
	var wg sync.WaitGroup
	var calls lmErrnos
	var failures []string
	var failMu sync.Mutex
	for g := range 4 {
		wg.Add(2)
		go func() { // mounts and unmounts
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for i := g; !stop.Load(); i++ {
				target := lmRaceTargets[i%len(lmRaceTargets)]
				src := lmRaceSources[(i/len(lmRaceTargets))%len(lmRaceSources)]
				calls.add("mount", lmErrno(syscall.Mount(src, target, "", syscall.MS_BIND, "")))
				flags := 0
				if i%3 == 0 {
					flags = syscall.MNT_DETACH
				}
				calls.add("umount2", lmUmount2(lmRaceTargets[(i+g)%len(lmRaceTargets)], flags))
			}
		}()
		go func() { // lookups below the targets
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			buf := make([]byte, 4096)
			for i := g; !stop.Load(); i++ {
				dir := lmRaceTargets[i%len(lmRaceTargets)]
				var st syscall.Stat_t
				calls.add("stat", lmErrno(syscall.Stat(dir+"/motd", &st)))
				if f, err := os.Open(dir); err == nil {
					_, err := f.Readdirnames(16)
					if err != nil && !errors.Is(err, syscall.ENOTDIR) && !errors.Is(err, io.EOF) {
						calls.add("readdir", lmErrno(err))
					}
					f.Close()
				}
				if f, err := os.Open(dir + "/motd"); err == nil {
					f.ReadAt(buf, 0)
					f.Close()
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // children that unshare and mount in their own namespace
		defer wg.Done()
		for !stop.Load() {
			children.Add(1)
			if out, err := omRun(nil, "lm-unshare"); err != nil {
				failMu.Lock()
				failures = append(failures, err.Error())
				failMu.Unlock()
			} else if !strings.HasPrefix(out, "lm-unshare: ") {
				failMu.Lock()
				failures = append(failures, "lm-unshare said "+out)
				failMu.Unlock()
			}
		}
	}()
	time.Sleep(lmRaceTime)
	stop.Store(true)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		return fmt.Errorf("races: mount, umount2, lookups and unshare did not all return within 2 minutes of being told to stop (a deadlock?); calls so far: %v", &calls)
	}
	fmt.Printf("attacks: linux-mount-abuse: raced calls: %v; %d children unsharing\n", &calls, children.Load())
	for _, f := range failures {
		c.failf("races: %s", f)
	}
	// Unmount what is left, deepest first.
	for i := len(lmRaceTargets) - 1; i >= 0; i-- {
		for range 3 {
			if lmUmount2(lmRaceTargets[i], syscall.MNT_DETACH) != 0 {
				break
			}
		}
	}
	mounts, err := lmMounts()
	if err != nil {
		c.failf("races: %v", err)
	}
	for _, l := range mounts {
		if f := strings.Fields(l); len(f) > 1 && strings.HasPrefix(f[1], "/tmp/") {
			c.failf("races: %q still mounted after unmounting everything", l)
		}
	}
	return lmUnmountLiarDirs()
}

// roleLMUnshare takes namespaces of its own again and again for a
// while, mounting and unmounting in each.
func roleLMUnshare([]string) int {
	n := 0
	for t0 := time.Now(); time.Since(t0) < 300*time.Millisecond; n++ {
		if _, _, e := syscall.RawSyscall(syscall.SYS_UNSHARE, syscall.CLONE_NEWNS, 0, 0); e != 0 {
			fmt.Printf("unshare: %v\n", e)
			return 1
		}
		// Only this process's namespace changes; the parent's race goes on.
		syscall.Mount("/etc", lmRaceTargets[n%3], "", syscall.MS_BIND, "")
		if _, err := lmMounts(); err != nil {
			fmt.Println(err)
			return 1
		}
		syscall.Unmount(lmRaceTargets[n%3], syscall.MNT_DETACH)
	}
	fmt.Printf("lm-unshare: %d namespaces\n", n)
	return 0
}

// lmFlood bind-mounts until the namespace's table is full, checks that
// a mount through the mounter is then refused and given back, and
// removes them all.
func lmFlood(c *lmChecks, fm *lmMounter) error {
	before, err := lmMounts()
	if err != nil {
		return fmt.Errorf("flood: %w", err)
	}
	if err := lmMountLiarDirs(); err != nil {
		return fmt.Errorf("flood: %w", err)
	}
	var targets []string
	var last syscall.Errno
	for i := 0; i < 300; i++ {
		t := fmt.Sprintf("%s/f%d", liarTarget, i)
		if last = lmErrno(syscall.Mount("/etc", t, "", syscall.MS_BIND, "")); last != 0 {
			break
		}
		targets = append(targets, t)
	}
	full, err := lmMounts()
	switch {
	case err != nil:
		c.failf("flood: with the table full: %v", err)
	case last != syscall.ENOSPC || len(full) != 256:
		c.failf("flood: %d bind mounts, then %s, with %d mounts in /proc/self/mounts; want ENOSPC at 256 mounts",
			len(targets), errnoName(last), len(full))
	}
	if fm != nil {
		id := fm.next(lmGoodServer)
		c.expect("mount(2) through the mounter with the table full", lmMountFS(lmDevice, liarTarget+"/full", "valfs"), syscall.ENOSPC)
		if n := fm.unmounted(id); n != 1 {
			c.failf("flood: mount(2) through the mounter refused for a full table: the mounter was told Unmount(%d) %d times, want once", id, n)
		}
	}
	for _, t := range targets {
		if e := lmUmount2(t, 0); e != 0 {
			c.failf("flood: umount2 %s: %s", t, errnoName(e))
		}
	}
	if err := lmUnmountLiarDirs(); err != nil {
		return fmt.Errorf("flood: %w", err)
	}
	after, err := lmMounts()
	if err != nil || len(after) != len(before) {
		c.failf("flood: %d mounts after removing them all (%v), %d before", len(after), err, len(before))
	}
	return nil
}
