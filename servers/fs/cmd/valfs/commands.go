package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"time"

	"valence.dev/servers/fs/fs"
	"valence.dev/servers/fs/hostcopy"
)

// parse parses a command's flags and checks it got want positional
// arguments (or between want and want+optional).
func parse(fset *flag.FlagSet, args []string, want, optional int) ([]string, error) {
	if fset == nil {
		fset = flag.NewFlagSet("", flag.ContinueOnError)
	}
	fset.SetOutput(io.Discard)
	if err := fset.Parse(args); err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	if n := fset.NArg(); n < want || n > want+optional {
		return nil, errUsage
	}
	return fset.Args(), nil
}

func runLs(args []string, stdout, _ io.Writer) error {
	args, err := parse(nil, args, 2, 0)
	if err != nil {
		return err
	}
	return withImage(args[0], false, func(f *fs.FS) error { return ls(f, args[1], stdout) })
}

func ls(f *fs.FS, p string, w io.Writer) error {
	st, err := f.Stat(p)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return lsLine(f, p, path.Base(p), w)
	}
	ents, err := f.ReadDir(p)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := lsLine(f, path.Join(p, e.Name), e.Name, w); err != nil {
			return err
		}
	}
	return nil
}

// lsLine prints one line in the manner of ls -ln.
func lsLine(f *fs.FS, p, name string, w io.Writer) error {
	st, err := f.Lstat(p)
	if err != nil {
		return err
	}
	if st.IsSymlink() {
		target, err := f.Readlink(p)
		if err != nil {
			return err
		}
		name += " -> " + target
	}
	_, err = fmt.Fprintf(w, "%s %3d %5d %5d %10d %s %s\n", modeString(st.Mode), st.Nlink, st.Uid, st.Gid, st.Size,
		st.Mtime.UTC().Format(time.DateTime), name)
	return err
}

func runCat(args []string, stdout, _ io.Writer) error {
	args, err := parse(nil, args, 2, 0)
	if err != nil {
		return err
	}
	return withImage(args[0], false, func(f *fs.FS) error {
		h, err := f.Open(args[1])
		if err != nil {
			return err
		}
		_, err = io.CopyBuffer(stdout, h, make([]byte, 1<<20))
		return errors.Join(err, h.Close())
	})
}

func runPut(args []string, _, _ io.Writer) error {
	args, err := parse(nil, args, 3, 0)
	if err != nil {
		return err
	}
	src, err := os.Open(args[1])
	if err != nil {
		return err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", args[1])
	}
	return withImage(args[0], true, func(f *fs.FS) error {
		dst := args[2]
		if st, err := f.Stat(dst); err == nil && st.IsDir() {
			dst = path.Join(dst, path.Base(args[1]))
		}
		return hostcopy.File(f, src, dst, fi)
	})
}

func runRm(args []string, _, _ io.Writer) error {
	args, err := parse(nil, args, 2, 0)
	if err != nil {
		return err
	}
	return withImage(args[0], true, func(f *fs.FS) error { return f.Remove(args[1]) })
}

func runStat(args []string, stdout, _ io.Writer) error {
	args, err := parse(nil, args, 1, 1)
	if err != nil {
		return err
	}
	return withImage(args[0], false, func(f *fs.FS) error {
		if len(args) == 2 {
			return statFile(f, args[1], stdout)
		}
		return statFS(f, stdout)
	})
}

// statFS prints the superblock's figures.
func statFS(f *fs.FS, stdout io.Writer) error {
	s := f.StatFS()
	_, err := fmt.Fprintf(stdout, `volume      %016x
generation  %d
created     %s
block size  %d
blocks      %d (%d bytes)
used        %d
free        %d
inodes      %d (next %d)
tree root   block %d
`, s.Volume, s.Generation, s.Created.UTC().Format(time.DateTime), fs.BlockSize, s.Blocks, s.Blocks*fs.BlockSize,
		s.Blocks-s.FreeBlocks, s.FreeBlocks, s.Inodes, s.NextInode, s.TreeRoot)
	return err
}

func statFile(f *fs.FS, p string, w io.Writer) error {
	st, err := f.Lstat(p)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, `path    %s
inode   %d
mode    %s (%06o)
links   %d
owner   %d:%d
size    %d
blocks  %d (512-byte)
atime   %s
mtime   %s
ctime   %s
`, p, st.Ino, modeString(st.Mode), st.Mode, st.Nlink, st.Uid, st.Gid, st.Size, st.Blocks,
		st.Atime.UTC().Format(time.RFC3339Nano), st.Mtime.UTC().Format(time.RFC3339Nano), st.Ctime.UTC().Format(time.RFC3339Nano))
	return err
}

// modeString renders a Unix mode as ls does: type, then rwx for owner,
// group and others, with s/S and t/T for setuid, setgid and sticky.
func modeString(m uint32) string {
	b := []byte("?rwxrwxrwx")
	switch m & fs.ModeType {
	case fs.ModeDir:
		b[0] = 'd'
	case fs.ModeSymlink:
		b[0] = 'l'
	case fs.ModeRegular:
		b[0] = '-'
	}
	for i := range 9 {
		if m&(1<<(8-i)) == 0 {
			b[1+i] = '-'
		}
	}
	special := func(bit uint32, pos int, set, unset byte) {
		if m&bit == 0 {
			return
		}
		if b[pos] == 'x' {
			b[pos] = set
		} else {
			b[pos] = unset
		}
	}
	special(0o4000, 3, 's', 'S')
	special(0o2000, 6, 's', 'S')
	special(0o1000, 9, 't', 'T')
	return string(b)
}
