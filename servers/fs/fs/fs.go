package fs

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"valence.dev/servers/fs/alloc"
	"valence.dev/servers/fs/blockdev"
	"valence.dev/servers/fs/btree"
)

// Options tune a mount (and mkfs). The zero value is a sensible default.
type Options struct {
	// ReadOnly refuses every change; nothing is written to the device.
	ReadOnly bool
	// Now is the clock for timestamps (default time.Now).
	Now func() time.Time
	// CacheNodes is how many clean tree nodes to keep decoded (default
	// 16384, about 64 MiB of metadata).
	CacheNodes int
	// MaxDirtyNodes makes an operation commit first when more tree nodes
	// than this are dirty, which bounds the memory a long run of changes
	// without fsync holds (default 8192). Zero means the default;
	// negative means never (crash tests use that to commit only when
	// they say).
	MaxDirtyNodes int
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CacheNodes == 0 {
		o.CacheNodes = 16384
	}
	if o.MaxDirtyNodes == 0 {
		o.MaxDirtyNodes = 8192
	}
	return o
}

// FS is a mounted filesystem. All methods are safe for concurrent use:
// one mutex serialises them (fsd serves requests one at a time anyway,
// and the device is the bottleneck).
//
// Every operation that changes anything is written in two steps, in the
// manner of seL4's decode/invoke: first it resolves names, checks every
// argument and reserves the blocks it can need, changing nothing; then
// it applies the change, which cannot fail short of a device error or
// damage found on the way. If that second step fails anyway, the tree in
// memory may be half-changed, so the filesystem stops: it refuses all
// further changes and commits (ErrStopped), and the image stays as of
// the last commit.
type FS struct {
	mu       sync.Mutex
	dev      blockdev.Device
	opts     Options
	sb       Superblock // as of the last commit, plus NextInode and Inodes in memory
	layout   alloc.Layout
	alloc    *alloc.Allocator
	tree     *btree.Tree
	open     map[uint64]int // open handles per inode
	changed  bool           // something changed since the last commit
	stopped  error          // why the filesystem stopped, or nil
	dataHint uint64         // where the next file with no extents starts allocating
	reserve  uint64         // blocks only removals may use (see prepare)
	scratch  []byte         // one block, for partial-block reads and writes
}

// MkfsOptions describe a new filesystem.
type MkfsOptions struct {
	// Blocks is the size; 0 means the whole device.
	Blocks uint64
	// Volume is the volume id; 0 means a random one.
	Volume uint64
	// Now is the clock for the root directory's times (default time.Now).
	Now func() time.Time
}

// Mkfs writes an empty filesystem to dev: two superblocks (generations 0
// and 1, sharing one tree of just the root directory), both bitmap
// copies, and the root node. Nothing else on the device is read or
// cleared; the volume id keeps leftover blocks from being mistaken for
// this filesystem's.
func Mkfs(dev blockdev.Device, o MkfsOptions) error {
	if o.Blocks == 0 {
		o.Blocks = dev.Blocks()
	}
	if o.Blocks > dev.Blocks() {
		return fmt.Errorf("mkfs: %d blocks on a device of %d: %w", o.Blocks, dev.Blocks(), ErrInvalid)
	}
	l, err := alloc.NewLayout(o.Blocks)
	if err != nil {
		return fmt.Errorf("mkfs: %w", err)
	}
	if o.Volume == 0 {
		var b [8]byte
		rand.Read(b[:])
		o.Volume = binary.LittleEndian.Uint64(b[:]) | 1
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	f := &FS{dev: dev, opts: Options{Now: o.Now}.withDefaults(), layout: l, alloc: alloc.New(l)}
	f.sb = Superblock{Volume: o.Volume, Blocks: o.Blocks, NextInode: RootIno + 1, Inodes: 1, Created: o.Now().UnixNano()}
	f.init()
	if f.tree, err = btree.New(f.treeConfig(), 0); err != nil {
		return fmt.Errorf("mkfs: %w", err)
	}
	now := f.now()
	root := Inode{Mode: ModeDir | 0o755, Nlink: 2, Parent: RootIno, Atime: now, Mtime: now, Ctime: now}
	if err := f.tree.Put(inodeKey(RootIno), EncodeInode(&root)); err != nil {
		return fmt.Errorf("mkfs: %w", err)
	}
	// Generation 0 into slot 0 and copy 0, then generation 1 into slot
	// 1 and copy 1: both slots hold a valid superblock from the start.
	f.sb.Generation = ^uint64(0)
	for range 2 {
		f.changed = true
		if err := f.commit(); err != nil {
			return fmt.Errorf("mkfs: %w", err)
		}
	}
	return nil
}

// Mount opens the filesystem on dev: the newest intact superblock, its
// bitmap copy and the root of its tree. Anything else is checked when
// it is first read. Unless opts.ReadOnly, files that were unlinked while
// open when the filesystem last ran (orphans) are freed now.
func Mount(dev blockdev.Device, opts Options) (*FS, error) {
	sb, _, err := ReadSuper(dev)
	if err != nil {
		return nil, fmt.Errorf("mount: %w", err)
	}
	l, err := alloc.NewLayout(sb.Blocks)
	if err != nil {
		return nil, fmt.Errorf("mount: %w", err)
	}
	f := &FS{dev: dev, opts: opts.withDefaults(), sb: *sb, layout: l}
	f.init()
	if f.alloc, err = alloc.Load(dev, l, sb.Volume, sb.Generation); err != nil {
		return nil, fmt.Errorf("mount: %w", errJoinCorrupt(err))
	}
	f.tree = btree.Open(f.treeConfig(), sb.Root, sb.Generation)
	root, err := f.inode(RootIno)
	if err == nil && !root.IsDir() {
		err = fmt.Errorf("root inode is not a directory: %w", ErrCorrupt)
	}
	if err != nil {
		return nil, fmt.Errorf("mount: %w", errJoinCorrupt(err))
	}
	if !opts.ReadOnly {
		if err := f.reapOrphans(); err != nil {
			return nil, fmt.Errorf("mount: %w", errJoinCorrupt(err))
		}
	}
	return f, nil
}

func errJoinCorrupt(err error) error {
	if isCorruption(err) {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return err
}

func (f *FS) init() {
	f.open = make(map[uint64]int)
	f.scratch = make([]byte, BlockSize)
	data := f.layout.Blocks - f.layout.DataStart()
	f.dataHint = f.layout.DataStart() + data/8
	f.reserve = min(max(data/64, 8), 1024)
}

func (f *FS) treeConfig() btree.Config {
	return btree.Config{
		Dev:    f.dev,
		Volume: f.sb.Volume,
		Alloc: func() (uint64, error) {
			b, _, err := f.alloc.Alloc(0, 1)
			return b, err
		},
		Release:    func(b uint64) error { return f.alloc.Release(b, 1) },
		CacheNodes: f.opts.CacheNodes,
	}
}

func (f *FS) now() int64 { return f.opts.Now().UnixNano() }

// Unmount commits any changes. The FS must not be used afterwards; the
// device is the caller's to close.
func (f *FS) Unmount() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped != nil || f.opts.ReadOnly {
		return f.stopped
	}
	return f.commit()
}

// FSStat describes the filesystem as a whole (statfs).
type FSStat struct {
	Volume     uint64
	Generation uint64 // last commit
	Blocks     uint64 // size in blocks of BlockSize bytes
	FreeBlocks uint64 // free now, counting blocks the next commit frees
	Inodes     uint64
	NextInode  uint64
	TreeRoot   uint64
	Created    time.Time
}

// StatFS returns the filesystem's statistics.
func (f *FS) StatFS() FSStat {
	f.mu.Lock()
	defer f.mu.Unlock()
	return FSStat{
		Volume: f.sb.Volume, Generation: f.sb.Generation, Blocks: f.sb.Blocks,
		FreeBlocks: f.alloc.Free() + f.alloc.Pending(), Inodes: f.sb.Inodes,
		NextInode: f.sb.NextInode, TreeRoot: f.tree.Root(), Created: time.Unix(0, f.sb.Created),
	}
}
