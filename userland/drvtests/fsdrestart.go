package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"valence.dev/ipc"
	"valence.dev/libos"
)

// fsd killed under a program that uses it through the kernel's
// namespace: the program's calls fail with EIO while no server is there
// (none hangs), a new fsd takes over the mount (MountReplace), a file
// opened before goes on working, and every write acknowledged by fsync
// before or after is intact.

func init() { addTest("fsd-restart", testFsdRestart) }

// mountPoint is where the test mounts its fsd: a directory of the
// initfs, which stays the root when drvtests runs as the first process.
const mountPoint = "/tmp"

func testFsdRestart(ctx context.Context) error {
	p, c, err := startFsd(ctx, "-mkfs")
	if err != nil {
		return err
	}
	if err := libos.Mount(mountPoint, c.T.(libos.Endpoint).H, 0); err != nil {
		stopFsd(p)
		return err
	}
	defer libos.Unmount(mountPoint)
	dir := filepath.Join(mountPoint, "restart")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	kept, err := os.OpenFile(filepath.Join(dir, "kept"), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer kept.Close()
	if _, err := kept.Write([]byte("before|")); err != nil {
		return err
	}
	if err := kept.Sync(); err != nil {
		return err
	}

	// The writer: f-<i>, fsynced; i is acknowledged once Sync says so.
	// A failed call is retried (the same i, truncated) until it works.
	var acked, failures atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; {
			select {
			case <-stop:
				return
			default:
			}
			if err := writeSynced(filepath.Join(dir, fmt.Sprintf("f-%d", i)), restartContent(i)); err != nil {
				if !errors.Is(err, syscall.EIO) {
					fmt.Printf("drvtests: fsd-restart: f-%d: %v (want EIO while fsd is down)\n", i, err)
				}
				failures.Add(1)
				time.Sleep(20 * time.Millisecond)
				continue
			}
			i++
			acked.Store(int64(i))
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	if err := waitFor(ctx, func() bool { return acked.Load() >= 10 }); err != nil {
		return fmt.Errorf("the writer before the kill: %w", err)
	}
	if err := libos.ProcKill(p, syscall.SIGKILL); err != nil {
		return err
	}
	libos.ProcWait(p)
	libos.Close(p)

	// No server: calls fail at once with EIO, never hang.
	t0 := time.Now()
	_, err = os.Stat(filepath.Join(dir, "kept"))
	if !errors.Is(err, syscall.EIO) || time.Since(t0) > 10*time.Second {
		return fmt.Errorf("stat with fsd dead: %v after %v, want EIO at once", err, time.Since(t0))
	}

	p2, c2, err := startFsd(ctx)
	if err != nil {
		return fmt.Errorf("the second fsd: %w", err)
	}
	defer stopFsd(p2)
	if err := libos.Mount(mountPoint, c2.T.(libos.Endpoint).H, ipc.MountReplace); err != nil {
		return err
	}
	before := acked.Load()
	if err := waitFor(ctx, func() bool { return acked.Load() >= before+10 }); err != nil {
		return fmt.Errorf("the writer after the restart: %w", err)
	}
	// The file opened before the restart, reopened by the kernel.
	if _, err := kept.Write([]byte("after")); err != nil {
		return fmt.Errorf("writing a file opened before the restart: %w", err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "kept"))
	if err != nil || string(got) != "before|after" {
		return fmt.Errorf("kept reads %q (%v), want %q", got, err, "before|after")
	}
	n := int(acked.Load())
	for i := range n {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("f-%d", i)))
		if err != nil || string(b) != string(restartContent(i)) {
			return fmt.Errorf("f-%d, acknowledged by fsync: %d bytes (%v), want %d", i, len(b), err, len(restartContent(i)))
		}
	}
	fmt.Printf("drvtests: fsd-restart: %d files fsynced across a restart of fsd, %d calls failed with EIO while it was down, none hung\n",
		n, failures.Load())
	return nil
}

func restartContent(i int) []byte {
	return []byte(fmt.Sprintf("file %d, %s", i, strings.Repeat("x", i*37%3000)))
}

// writeSynced writes a whole file and fsyncs it.
func writeSynced(name string, data []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// waitFor polls cond until it holds or a minute passes.
func waitFor(ctx context.Context, cond func() bool) error {
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("timed out after a minute")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}
