package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/go-multierror"

	"valence.dev/servers/fs/blockdev"
	"valence.dev/servers/fs/fsck"
)

// errProblems says fsck found problems and has printed them.
var errProblems = errors.New("problems found")

func runFsck(args []string, stdout, stderr io.Writer) error {
	args, err := parse(nil, args, 1, 0)
	if err != nil {
		return err
	}
	dev, err := blockdev.OpenFile(args[0], true)
	if err != nil {
		return err
	}
	defer dev.Close()
	r, err := fsck.Check(dev)
	for _, w := range r.Warnings {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	var problems *multierror.Error
	if errors.As(err, &problems) {
		for _, p := range problems.Errors {
			fmt.Fprintf(stdout, "problem: %v\n", p)
		}
		fmt.Fprintf(stderr, "valfs: fsck: %s: %d problems\n", args[0], len(problems.Errors))
		return errProblems
	}
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	fmt.Fprintf(stdout, "%s: clean, generation %d: %d inodes (%d directories, %d files, %d symlinks, %d orphans), "+
		"%d/%d blocks used, tree of %d nodes in %d levels\n",
		args[0], r.Super.Generation, r.Inodes, r.Dirs, r.Files, r.Symlinks, r.Orphans,
		r.UsedBlocks, r.Super.Blocks, r.Nodes, r.Height)
	return nil
}
