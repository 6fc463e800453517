package fsck

import (
	"fmt"

	"github.com/hashicorp/go-multierror"

	"valence.dev/servers/fs/alloc"
	"valence.dev/servers/fs/blockdev"
	"valence.dev/servers/fs/fs"
)

// Report summarises a check.
type Report struct {
	Super    fs.Superblock   // the superblock that was checked
	Slots    [2]fs.SlotState // both superblock slots
	Warnings []string        // oddities that are not damage

	Nodes      uint64 // tree nodes
	Height     int    // tree levels
	Items      uint64
	Inodes     uint64
	Dirs       uint64
	Files      uint64
	Symlinks   uint64
	Orphans    uint64
	DataBlocks uint64 // blocks mapped by extents
	UsedBlocks uint64 // fixed area + nodes + data
}

// maxProblems bounds the report; a badly damaged image would otherwise
// produce a line per block.
const maxProblems = 200

// checker carries the state of one check.
type checker struct {
	dev        blockdev.Device
	sb         *fs.Superblock
	layout     alloc.Layout
	report     *Report
	errs       *multierror.Error
	dropped    int
	used       []uint64 // blocks referenced by the tree: nodes and data
	incomplete bool     // part of the tree could not be read
	inodes     map[uint64]*inodeInfo
	orphans    map[uint64]bool
}

func (c *checker) problem(format string, args ...any) {
	if len(c.errs.Errors) >= maxProblems {
		c.dropped++
		return
	}
	c.errs = multierror.Append(c.errs, fmt.Errorf(format, args...))
}

func (c *checker) warn(format string, args ...any) {
	c.report.Warnings = append(c.report.Warnings, fmt.Sprintf(format, args...))
}

// Check checks the filesystem on dev. The error is nil when the image is
// clean; otherwise it is a *multierror.Error listing every problem, or a
// single error when there is no filesystem to check at all (no intact
// superblock, a truncated image). The report is filled in as far as the
// check got.
func Check(dev blockdev.Device) (*Report, error) {
	report := &Report{}
	sb, slots, err := fs.ReadSuper(dev)
	report.Slots = slots
	if err != nil {
		return report, fmt.Errorf("fsck: %w", err)
	}
	report.Super = *sb
	c := &checker{
		dev: dev, sb: sb, report: report, errs: &multierror.Error{},
		inodes: make(map[uint64]*inodeInfo), orphans: make(map[uint64]bool),
	}
	c.layout, err = alloc.NewLayout(sb.Blocks)
	if err != nil {
		return report, fmt.Errorf("fsck: %w", err)
	}
	c.used = make([]uint64, (sb.Blocks+63)/64)
	c.checkOtherSlot(slots)
	bitmap, err := alloc.ReadCopy(dev, c.layout, sb.Volume, sb.Generation, int(sb.Generation%2))
	if err != nil {
		c.problem("bitmap: %v", err)
	}
	c.walkTree()
	c.checkInodes()
	c.checkSpace(bitmap)
	if c.dropped > 0 {
		c.errs = multierror.Append(c.errs, fmt.Errorf("... and %d more problems", c.dropped))
	}
	return report, c.errs.ErrorOrNil()
}

// checkOtherSlot looks at the superblock slot that did not win.
func (c *checker) checkOtherSlot(slots [2]fs.SlotState) {
	other := slots[1-c.sb.Generation%2]
	switch {
	case other.Super == nil:
		c.warn("superblock slot %d is not intact (%v); the next commit rewrites it", 1-c.sb.Generation%2, other.Err)
	case other.Super.Volume != c.sb.Volume:
		c.warn("superblock slot %d belongs to volume %#x", 1-c.sb.Generation%2, other.Super.Volume)
	case other.Super.Generation+1 != c.sb.Generation:
		c.warn("superblock slot %d has generation %d, expected %d", 1-c.sb.Generation%2, other.Super.Generation, c.sb.Generation-1)
	}
}

// markUsed records that the tree refers to blocks [start, start+n) and
// reports any it already referred to.
func (c *checker) markUsed(start, n uint64, what string) {
	for b := start; b < start+n && b < c.sb.Blocks; b++ {
		if c.used[b/64]&(1<<(b%64)) != 0 {
			c.problem("block %d (%s) is referenced twice", b, what)
			continue
		}
		c.used[b/64] |= 1 << (b % 64)
	}
}

// checkSpace compares the blocks the tree refers to with the bitmap.
func (c *checker) checkSpace(bitmap *alloc.Bitmap) {
	c.markUsed(0, c.layout.DataStart(), "fixed area")
	var n uint64
	for _, w := range c.used {
		for ; w != 0; w &= w - 1 {
			n++
		}
	}
	c.report.UsedBlocks = n
	if bitmap == nil || c.incomplete {
		return
	}
	leaks, lost := 0, 0
	for b := uint64(0); b < c.sb.Blocks; b++ {
		inTree := c.used[b/64]&(1<<(b%64)) != 0
		switch inBitmap := bitmap.InUse(b); {
		case inTree && !inBitmap:
			if lost++; lost <= 10 {
				c.problem("block %d is in use but the bitmap marks it free", b)
			}
		case !inTree && inBitmap:
			if leaks++; leaks <= 10 {
				c.problem("block %d is marked in use but nothing refers to it (leaked)", b)
			}
		}
	}
	if lost > 10 || leaks > 10 {
		c.problem("bitmap disagrees with the tree on %d blocks in all (%d in use marked free, %d leaked)", lost+leaks, lost, leaks)
	}
	if c.sb.UsedBlocks != n {
		c.problem("superblock says %d blocks in use, the tree uses %d", c.sb.UsedBlocks, n)
	}
}
