// Command fsd serves a Valence filesystem (servers/fs) on a disk driver
// with the file protocol (servers/fs/fileproto); docs/filesystems.md.
//
// It is started with two handles (libos.InitialHandles): a client
// capability on a disk driver's endpoint (the block protocol: nvmed or
// virtio-blkd, as pcid's Lookup gives it), and a registration endpoint,
// which fsd calls once it serves with a message of label 1 carrying one
// handle, a client capability on its own endpoint (the model of
// userland/ipctests and pcid). With -mkfs it formats a disk that holds no
// filesystem; otherwise such a disk is refused with the reason.
//
// Acknowledged data is durable: fsync, sync and O_SYNC writes commit, and
// a commit also runs every -commit interval and at SIGTERM. Killed at any
// moment, fsd loses nothing fsync acknowledged: the next fsd mounts the
// last commit.
//
// Blocks read from the disk or written to it are kept in a block cache
// (blockdev.Cache) of at most -cache bytes (default 64M; a K, M or G
// suffix counts binary units; 0 disables it), so data read again, a
// program run twice for one, costs no disk requests. It is write-back
// (-writeback, the default): written blocks stay in memory until the
// next commit's flush, or until -dirty bytes of them (default 16M) force
// an early writeback, and then go out in runs of consecutive blocks, one
// disk request each, so a file written in 3 KiB pieces costs about one
// request per MiB instead of two per block. Commits flush, so
// durability is what the filesystem promises, unchanged (the blockdev
// documentation argues it). With -writers n a writeback has up to n
// runs in the disk at once, so that a commit's scattered blocks
// (bitmap, tree nodes, data) wait for one disk latency rather than one
// each; the default is 1, since under QEMU's TCG, where a request's
// cost is mostly guest CPU, 4 showed no gain. A read that continues a
// sequential stream reads up to -readahead bytes ahead (default 1M).
// fsd prints the cache's configuration after the mounted line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"valence.dev/drivers/lib/block"
	"valence.dev/ipc"
	"valence.dev/libos"
	"valence.dev/servers/fs/blockclient"
	"valence.dev/servers/fs/blockdev"
	"valence.dev/servers/fs/fs"
	"valence.dev/servers/fs/fsd"
	"valence.dev/servers/fs/fsd/osmem"
)

// servers is how many requests fsd works on at once (it serialises them
// internally; the rest wait in the kernel).
const servers = 4

func main() {
	mkfs := flag.Bool("mkfs", false, "format the disk if it holds no filesystem")
	commit := flag.Duration("commit", 5*time.Second, "commit interval")
	cache := size(64 << 20)
	flag.Var(&cache, "cache", "most bytes of disk blocks to cache (K, M, G suffixes; 0: no cache)")
	writeBack := flag.Bool("writeback", true, "keep written blocks in the cache until a commit flushes them (false: write through)")
	dirty := size(16 << 20)
	flag.Var(&dirty, "dirty", "most bytes of written blocks the cache holds before writing them back early")
	readahead := size(1 << 20)
	flag.Var(&readahead, "readahead", "most bytes a sequential read reads ahead into the cache")
	writers := flag.Int("writers", 1, "most runs of written blocks the cache writes to the disk at once")
	flag.Parse()
	o := blockdev.CacheOptions{Bytes: uint64(cache), WriteBack: *writeBack, MaxDirty: uint64(dirty), Readahead: uint64(readahead), Writers: *writers}
	if err := run(*mkfs, *commit, o); err != nil {
		fmt.Fprintf(os.Stderr, "fsd: %v\n", err)
		os.Exit(1)
	}
}

func run(mkfs bool, every time.Duration, cacheOpts blockdev.CacheOptions) error {
	hs := libos.InitialHandles()
	if len(hs) != 2 {
		return fmt.Errorf("started with %d handles, want a disk and a registration endpoint", len(hs))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	dev, err := blockclient.Open(ctx, block.Client{T: libos.Endpoint{H: hs[0]}}, blockclient.Options{
		Map: func(h ipc.Handle, size uint64) ([]byte, error) {
			return libos.Map(h, syscall.PROT_READ|syscall.PROT_WRITE)
		},
		Unmap: syscall.Munmap,
	})
	if err != nil {
		return fmt.Errorf("the disk: %w", err)
	}
	info := dev.Info()
	// Everything, mkfs included, goes through the cache, so that it
	// never misses a write.
	var disk blockdev.Device = dev
	cacheMsg := "no block cache"
	if cacheOpts.Bytes >= blockdev.BlockSize {
		c := blockdev.NewCacheWith(dev, cacheOpts)
		disk, cacheMsg = c, c.String()
	}
	f, err := fs.Mount(disk, fs.Options{})
	if errors.Is(err, fs.ErrNoFilesystem) && mkfs {
		fmt.Printf("fsd: %s: no filesystem; formatting %d MiB\n", info.Model, info.Sectors*uint64(info.SectorSize)>>20)
		if err = fs.Mkfs(disk, fs.MkfsOptions{}); err == nil {
			f, err = fs.Mount(disk, fs.Options{})
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", info.Model, err)
	}
	st := f.StatFS()
	fmt.Printf("fsd: mounted %s (serial %q), generation %d: %d of %d blocks free, %d inodes\n",
		info.Model, info.Serial, st.Generation, st.FreeBlocks, st.Blocks, st.Inodes)
	fmt.Printf("fsd: %s\n", cacheMsg)

	// The kernel is one client for every process with a file open on
	// this server (docs/filesystems.md), so a client may hold as many
	// files as the server does in all; each process is held to its
	// RLIMIT_NOFILE by the kernel.
	srv := fsd.New(f, fsd.Options{Memory: osmem.New(), MaxFilesPerClient: 65536})
	ep, err := libos.NewEndpoint()
	if err != nil {
		return err
	}
	client, err := libos.Dup(ep, ipc.RightWrite|ipc.RightGrant|ipc.RightDuplicate, 0)
	if err != nil {
		return err
	}
	r := srv.RPC()
	errs := make(chan error, servers)
	for i := 0; i < servers; i++ {
		go func() { errs <- r.Serve(ctx, libos.ServerEndpoint{H: ep}) }()
	}
	go srv.CommitEvery(ctx, every)
	m := ipc.Message{}
	m.Label = 1
	m.NHandles = 1
	m.Handles[0] = client
	var rep ipc.Message
	if err := libos.Call(hs[1], &m, &rep); err != nil {
		return fmt.Errorf("registering: %w", err)
	}
	select {
	case err = <-errs:
	case <-ctx.Done():
	}
	srv.Shutdown()
	return err
}

// size is a flag of a number of bytes, with an optional binary suffix
// K, M or G.
type size uint64

func (s *size) Set(v string) error {
	shift := 0
	if i := strings.IndexAny(v, "KMGkmg"); i >= 0 && i == len(v)-1 {
		shift = 10 * (1 + strings.IndexByte("KMG", v[i]&^0x20))
		v = v[:i]
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return err
	}
	if n > (1<<63)>>shift {
		return errors.New("too large")
	}
	*s = size(n << shift)
	return nil
}

func (s size) String() string {
	for _, u := range []struct {
		shift uint
		name  string
	}{{30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if s != 0 && s%(1<<u.shift) == 0 {
			return fmt.Sprintf("%d %s", s>>u.shift, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", uint64(s))
}
