package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"valence.dev/servers/fs/hostcopy"
	"valence.dev/tools/mkimage/initfs"
	"valence.dev/tools/mkimage/mbimage"
	"valence.dev/tools/mkimage/symtab"
)

// maxKernelFile bounds the kernel ELF we read into memory; debug info makes
// it larger than the image, but not by this much.
const maxKernelFile = 1 << 30

// errReported marks errors the flag package has already printed along
// with the usage message.
var errReported = errors.New("mkimage: invalid command line")

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errReported):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run is main with its dependencies passed in, for tests.
func run(args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) error {
	flags := flag.NewFlagSet("mkimage", flag.ContinueOnError)
	flags.SetOutput(stderr)
	kernel := flags.String("kernel", "", "kernel ELF `file` (required)")
	image := flags.String("image", "", "image `directory` to archive into initfs.tar")
	out := flags.String("out", "", "output `directory` (required)")
	entry := flags.String("entry", mbimage.DefaultEntry, "entry point `symbol`")
	diskSize := flags.String("disk-size", "", "root.img `size` in bytes, suffix K, M, G or T (default 256M, or what the tree needs)")
	var adds []initfs.Add
	flags.Func("add", "add host `file[:/guest/path]` to initfs.tar (repeatable)", func(s string) error {
		a, err := initfs.ParseAdd(s)
		if err == nil {
			adds = append(adds, a)
		}
		return err
	})
	var diskAdds []initfs.Add
	flags.Func("disk-add", "add host `file[:/guest/path]` to root.img only, not initfs.tar (repeatable)", func(s string) error {
		a, err := initfs.ParseAdd(s)
		if err == nil {
			diskAdds = append(diskAdds, a)
		}
		return err
	})
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %w", errReported, err)
	}
	switch {
	case *kernel == "":
		return errors.New("mkimage: -kernel is required")
	case *out == "":
		return errors.New("mkimage: -out is required")
	case flags.NArg() > 0:
		return fmt.Errorf("mkimage: unexpected arguments %q", flags.Args())
	}
	var diskBytes uint64
	if *diskSize != "" {
		n, err := hostcopy.ParseSize(*diskSize)
		if err != nil {
			return fmt.Errorf("mkimage: -disk-size %q: %w", *diskSize, err)
		}
		diskBytes = n
	}
	modTime, err := sourceDateEpoch(lookupEnv)
	if err != nil {
		return fmt.Errorf("mkimage: %w", err)
	}
	tree := initfs.Options{ImageDir: *image, Adds: adds, ModTime: modTime}

	elfBytes, err := readKernel(*kernel)
	if err != nil {
		return err
	}
	img, err := mbimage.Build(elfBytes, *entry)
	if err != nil {
		return fmt.Errorf("mkimage: %s: %w", *kernel, err)
	}
	sym, nsyms, err := symtab.Table(elfBytes)
	if err != nil {
		return fmt.Errorf("mkimage: %s: %w", *kernel, err)
	}

	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("mkimage: creating output directory: %w", err)
	}
	// Stage every output before renaming any into place (see doc.go).
	var st initfs.Stats
	outputs := []struct {
		name  string
		write func(io.Writer) error
	}{
		{"initfs.tar", func(w io.Writer) error {
			var err error
			st, err = initfs.Write(w, tree)
			return err
		}},
		{"valence.mb", writeBytes(img.File)},
		{"kernel.sym", writeBytes(sym)},
	}
	var staged []string
	defer func() {
		for _, tmp := range staged {
			os.Remove(tmp) // no-op once renamed
		}
	}()
	for _, o := range outputs {
		tmp, err := writeTemp(*out, o.name, o.write)
		if err != nil {
			return err
		}
		staged = append(staged, tmp)
	}
	// The root disk is written by path (it is a sparse, random-access
	// file), then staged like the rest.
	diskTree := tree
	// -add files come after -disk-add ones, so they win on the disk as
	// they do in the initfs (a user's ADD= over a u-root command).
	diskTree.Adds = append(append([]initfs.Add(nil), diskAdds...), adds...)
	disk, dst, err := writeDisk(*out, diskTree, diskBytes, modTime)
	if err != nil {
		return err
	}
	staged = append(staged, disk)
	for i, o := range outputs {
		if err := os.Rename(staged[i], filepath.Join(*out, o.name)); err != nil {
			return fmt.Errorf("mkimage: %w", err)
		}
	}
	if err := os.Rename(disk, filepath.Join(*out, "root.img")); err != nil {
		return fmt.Errorf("mkimage: %w", err)
	}

	h := img.Header
	_, err = fmt.Fprintf(stdout, "mkimage: valence.mb %s (load %#x-%#x, bss to %#x, entry %#x); initfs.tar %d files %s; kernel.sym %d symbols; root.img %s, %s used\n",
		humanSize(int64(len(img.File))), h.LoadAddr, h.LoadEndAddr, h.BSSEndAddr, h.EntryAddr,
		st.Files, humanSize(st.Bytes), nsyms, humanSize(int64(dst.Size)), humanSize(int64(dst.UsedBytes)))
	return err
}

// sourceDateEpoch returns the archive timestamp. An unset or empty
// SOURCE_DATE_EPOCH yields the zero Time, which initfs maps to the epoch.
func sourceDateEpoch(lookupEnv func(string) (string, bool)) (time.Time, error) {
	v, ok := lookupEnv("SOURCE_DATE_EPOCH")
	if !ok || v == "" {
		return time.Time{}, nil
	}
	return initfs.ParseSourceDateEpoch(v)
}
