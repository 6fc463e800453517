package fs_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/servers/fs/blockdev"
	"valence.dev/servers/fs/fs"
	"valence.dev/servers/fs/fsck"
)

// The crash test runs a random workload on a device that records every
// write and flush, then rebuilds the device as a power cut at hundreds
// of points of the log would leave it (blockdev.Replay): right before
// and right after every flush, and at random points between them, with
// the writes not yet flushed lost, kept, or lost and torn at random.
// At every cut the image must pass fsck and mount, and its tree must be
// exactly the tree of a commit the workload made: the last one whose
// final flush happened before the cut, or the one in progress if its
// superblock write was issued (and, when every unflushed write is kept,
// it must be that one; when none is, the earlier one). So every file
// has exactly the contents of its last fsync, and no rename is ever half
// done. Every few cuts the image is also mounted writable, changed,
// synced and checked again, so recovery leaves a working filesystem.

// commitPoint is what the workload knew at one of its commits.
type commitPoint struct {
	super int // log index of its superblock write
	end   int // log length after its final flush
	tree  map[string]string
}

// crashView is the tree a crash test compares: fsView with inode numbers.
func crashView(t testing.TB, f *fs.FS) map[string]string {
	desc, inos := fsView(t, f)
	for p, ino := range inos {
		desc[p] += fmt.Sprintf(" ino=%d", ino)
	}
	return desc
}

// recordWorkload runs the workload on the recording device seen
// through stack and returns the base image, the log and the commits.
func recordWorkload(t *testing.T, seed uint64, commits int, stack crashStack) ([]byte, *blockdev.Recorder, []commitPoint) {
	return record(t, seed, commits, fs.Options{MaxDirtyNodes: -1, CacheNodes: 64}, stack)
}

// crashStack is what the filesystem runs on in a crash test: the
// recording device, or something in front of it.
type crashStack struct {
	name string
	over func(rec *blockdev.Recorder) blockdev.Device
}

// crashStacks are the stacks every crash test runs on: the recorder
// itself, and the recorder behind a write-back cache as fsd has one,
// small enough that blocks are evicted, and with so low a dirty bound
// that it writes back early all the time. The recorder then sees only
// what the cache wrote back, and a power cut loses whatever was dirty
// in it.
var crashStacks = []crashStack{
	{"direct", func(rec *blockdev.Recorder) blockdev.Device { return rec }},
	{"write-back cache", func(rec *blockdev.Recorder) blockdev.Device {
		return blockdev.NewCacheWith(rec, blockdev.CacheOptions{
			Bytes: 64 * blockdev.BlockSize, WriteBack: true, MaxDirty: 4 * blockdev.BlockSize, Readahead: 16 * blockdev.BlockSize})
	}},
	{"write-back cache, 4 writers", func(rec *blockdev.Recorder) blockdev.Device {
		return blockdev.NewCacheWith(&lockedDevice{Device: rec}, blockdev.CacheOptions{
			Bytes: 64 * blockdev.BlockSize, WriteBack: true, MaxDirty: 8 * blockdev.BlockSize, Writers: 4})
	}},
}

// lockedDevice makes a device that is not safe for concurrent use
// (Recorder) safe, for a cache that writes back several runs at once.
type lockedDevice struct {
	mu sync.Mutex
	blockdev.Device
}

func (d *lockedDevice) ReadAt(p []byte, block uint64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Device.ReadAt(p, block)
}

func (d *lockedDevice) WriteAt(p []byte, block uint64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Device.WriteAt(p, block)
}

func (d *lockedDevice) Flush() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Device.Flush()
}

// record runs the workload with opts on stack until it has made commits
// explicit commits.
func record(t *testing.T, seed uint64, commits int, opts fs.Options, stack crashStack) ([]byte, *blockdev.Recorder, []commitPoint) {
	mem := blockdev.NewMem(4096)
	c := &clock{}
	must(t, fs.Mkfs(mem, fs.MkfsOptions{Volume: 0xc0ffee, Now: c.now}))
	if opts.MaxDirtyNodes > 0 {
		// Grow the tree past one node first, so that the dirty bound
		// bites during the recorded workload.
		pre, err := fs.Mount(mem, fs.Options{Now: c.now})
		must(t, err)
		must(t, pre.Mkdir("/fill", 0o755))
		for i := range 300 {
			must(t, pre.WriteFile(fmt.Sprintf("/fill/%d", i), nil, 0o644))
		}
		must(t, pre.Unmount())
	}
	base := append([]byte(nil), mem.Bytes()...)
	rec := blockdev.NewRecorder(mem)
	opts.Now = c.now
	dev := stack.over(rec)
	f, err := fs.Mount(dev, opts)
	must(t, err)

	points := []commitPoint{{super: -1, end: 0, tree: crashView(t, f)}}
	w := &workload{rng: rand.New(rand.NewPCG(seed, 7)), m: newModel(), f: f, dev: rec, maxData: 20000,
		names: []string{"a", "b", "c", "d"}}
	var open []*fs.File
	version := 0
	sync := func() {
		gen := f.StatFS().Generation
		must(t, f.Sync())
		switch got := f.StatFS().Generation; {
		case got == gen:
			return // nothing had changed
		case got != gen+1 && opts.MaxDirtyNodes < 0:
			t.Fatalf("sync moved the generation from %d to %d", gen, got)
		}
		points = append(points, commitPoint{super: rec.Len() - 2, end: rec.Len(), tree: crashView(t, f)})
	}
	for len(points) <= commits {
		switch r := w.rng.IntN(20); {
		case r < 14:
			what, want, got := w.step()
			if !sameError(want, got) {
				t.Fatalf("%s: error %v, model says %v", what, got, want)
			}
		case r < 16:
			// Replace a file atomically: write a new version aside,
			// fsync it, rename it over the old one.
			version++
			data := []byte(strings.Repeat(fmt.Sprintf("version %d\n", version), 1+w.rng.IntN(2000)))
			must(t, f.WriteFile("/atomic.tmp", data, 0o644))
			sync()
			must(t, f.Rename("/atomic.tmp", "/atomic"))
		case r < 17:
			// Keep a file open across its unlink: an orphan.
			must(t, f.WriteFile("/held", make([]byte, 5000+w.rng.IntN(30000)), 0o644))
			h, err := f.OpenFile("/held", os.O_RDWR, 0)
			must(t, err)
			must(t, f.Unlink("/held"))
			open = append(open, h)
		case r < 18 && len(open) > 0:
			must(t, open[0].Close())
			open = open[1:]
		default:
			sync()
		}
	}
	if c, ok := dev.(*blockdev.Cache); ok {
		st := c.Stats()
		t.Logf("cache: %+v", st)
		if st.Early == 0 || st.Evictions == 0 {
			t.Errorf("the cache never wrote back early or never evicted: the test tests little")
		}
	}
	return base, rec, points
}

// cut is one simulated power cut.
type cut struct {
	at   int
	loss blockdev.Loss
}

// cutPoints chooses where to cut: before and after every flush, and a
// few random points between flushes, each with the loss models that
// make a difference there.
func cutPoints(ops []blockdev.Op, rng *rand.Rand, between int) []cut {
	var cuts []cut
	add := func(at, lastFlush int) {
		if at == lastFlush { // nothing unflushed: one outcome
			cuts = append(cuts, cut{at, blockdev.LoseAll})
			return
		}
		cuts = append(cuts, cut{at, blockdev.LoseAll}, cut{at, blockdev.KeepAll}, cut{at, blockdev.LoseSome}, cut{at, blockdev.LoseSome})
	}
	last := 0
	for i, op := range ops {
		if !op.Flush {
			continue
		}
		for range between {
			if i > last+1 {
				add(last+1+rng.IntN(i-last-1), last)
			}
		}
		add(i, last)
		add(i+1, i+1)
		last = i + 1
	}
	add(len(ops), last)
	slices.SortStableFunc(cuts, func(a, b cut) int { return a.at - b.at })
	return cuts
}

func TestCrash(t *testing.T) {
	commits, between, seeds := 100, 2, []uint64{1, 2}
	if long() {
		commits, between, seeds = 400, 4, []uint64{1, 2, 3, 4}
	}
	stacks := crashStacks
	if !long() {
		stacks = crashStacks[:2] // and the cache's with one seed and fewer commits
	}
	for i, stack := range stacks {
		t.Run(stack.name, func(t *testing.T) {
			total := 0
			seeds, commits := seeds, commits
			if i > 0 && !long() {
				seeds, commits = seeds[:1], commits/2
			}
			for _, seed := range seeds {
				base, rec, points := recordWorkload(t, seed, commits, stack)
				rng := rand.New(rand.NewPCG(seed, 13))
				cuts := cutPoints(rec.Ops(), rng, between)
				replay := blockdev.NewReplay(base, rec.Ops())
				positions := map[int]bool{}
				for i, c := range cuts {
					dev, err := replay.Cut(c.at, c.loss, rng)
					must(t, err)
					checkCut(t, dev, c, points, i%4 == 0)
					positions[c.at] = true
				}
				t.Logf("seed %d: %d ops, %d commits, %d cut points, %d cuts (with loss variants)", seed, len(rec.Ops()), len(points)-1, len(positions), len(cuts))
				total += len(positions)
			}
			if want := 5 * commits * len(seeds) / 2; total < want {
				t.Errorf("only %d cut points, want %d", total, want)
			}
		})
	}
}

// checkCut checks the image one cut left.
func checkCut(t *testing.T, dev blockdev.Device, c cut, points []commitPoint, reuse bool) {
	t.Helper()
	where := fmt.Sprintf("cut at op %d (%v)", c.at, c.loss)
	if _, err := fsck.Check(dev); err != nil {
		t.Fatalf("%s: fsck: %v", where, err)
	}
	// The last commit durable before the cut, and the one in flight.
	done := 0
	for done+1 < len(points) && points[done+1].end <= c.at {
		done++
	}
	allowed := []int{done}
	if next := done + 1; next < len(points) && points[next].super < c.at {
		switch c.loss {
		case blockdev.KeepAll:
			allowed = []int{next}
		case blockdev.LoseSome:
			allowed = append(allowed, next)
		}
	}
	f, err := fs.Mount(dev, fs.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("%s: mount: %v", where, err)
	}
	got := crashView(t, f)
	for _, a := range allowed {
		if cmp.Equal(points[a].tree, got) {
			if reuse {
				checkReuse(t, dev, where)
			}
			return
		}
	}
	t.Fatalf("%s: the tree is not that of commit %v:\n%s", where, allowed, cmp.Diff(points[allowed[0]].tree, got))
}

// checkReuse mounts a crashed image writable, changes it, and checks it.
func checkReuse(t *testing.T, dev blockdev.Device, where string) {
	f, err := fs.Mount(dev, fs.Options{})
	if err != nil {
		t.Fatalf("%s: writable mount: %v", where, err)
	}
	if err := f.WriteFile("/after-crash", make([]byte, 10000), 0o644); err != nil {
		t.Fatalf("%s: write after crash: %v", where, err)
	}
	if err := f.Rename("/after-crash", "/atomic"); err != nil {
		t.Fatalf("%s: rename after crash: %v", where, err)
	}
	if err := f.Unmount(); err != nil {
		t.Fatalf("%s: unmount after crash: %v", where, err)
	}
	if _, err := fsck.Check(dev); err != nil {
		t.Fatalf("%s: fsck after reuse: %v", where, err)
	}
}

// TestCrashAutoCommit runs the workload with a tiny dirty-node bound, so
// the filesystem commits by itself between operations all the time. The
// test cannot know the tree of each of those commits, so at every cut it
// checks what holds regardless: fsck is clean, the image mounts, every
// file reads, and the recovered filesystem works.
func TestCrashAutoCommit(t *testing.T) {
	commits, seeds := 20, []uint64{5}
	if long() {
		commits, seeds = 200, []uint64{5, 6, 7}
	}
	// Early writebacks are what this test adds for a cache; one cache
	// stack, with fewer commits, suffices unless the run is long.
	stacks := crashStacks
	if !long() {
		stacks = crashStacks[:2]
	}
	for i, stack := range stacks {
		t.Run(stack.name, func(t *testing.T) {
			commits := commits
			if i > 0 && !long() {
				commits /= 2
			}
			for _, seed := range seeds {
				base, rec, _ := record(t, seed, commits, fs.Options{MaxDirtyNodes: 1, CacheNodes: 64}, stack)
				rng := rand.New(rand.NewPCG(seed, 17))
				cuts := cutPoints(rec.Ops(), rng, 1)
				replay := blockdev.NewReplay(base, rec.Ops())
				for i, c := range cuts {
					dev, err := replay.Cut(c.at, c.loss, rng)
					must(t, err)
					where := fmt.Sprintf("cut at op %d (%v)", c.at, c.loss)
					if _, err := fsck.Check(dev); err != nil {
						t.Fatalf("%s: fsck: %v", where, err)
					}
					f, err := fs.Mount(dev, fs.Options{ReadOnly: true})
					if err != nil {
						t.Fatalf("%s: mount: %v", where, err)
					}
					crashView(t, f)
					if i%4 == 0 {
						checkReuse(t, dev, where)
					}
				}
				supers := 0
				for _, op := range rec.Ops() {
					if !op.Flush && op.Block < 2 {
						supers++
					}
				}
				t.Logf("seed %d: %d ops, %d commits, %d cuts", seed, len(rec.Ops()), supers, len(cuts))
			}
		})
	}
}
