package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"valence.dev/tools/mkimage/initfs"
	"valence.dev/tools/mkimage/rootdisk"
)

// readKernel reads the kernel ELF, refusing absurdly large files before
// reading them into memory.
func readKernel(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("mkimage: reading kernel: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("mkimage: reading kernel: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("mkimage: kernel %s is not a regular file", path)
	}
	if fi.Size() > maxKernelFile {
		return nil, fmt.Errorf("mkimage: kernel %s is %d bytes, over the %d MiB limit", path, fi.Size(), maxKernelFile>>20)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxKernelFile+1))
	if err != nil {
		return nil, fmt.Errorf("mkimage: reading kernel: %w", err)
	}
	if len(b) > maxKernelFile {
		return nil, fmt.Errorf("mkimage: kernel %s grew past the %d MiB limit while being read", path, maxKernelFile>>20)
	}
	return b, nil
}

// writeTemp writes a file next to its final name in dir and returns the
// temporary path; the caller renames it into place or removes it.
func writeTemp(dir, name string, write func(io.Writer) error) (string, error) {
	f, err := os.CreateTemp(dir, "."+name+".*")
	if err != nil {
		return "", fmt.Errorf("mkimage: creating %s: %w", name, err)
	}
	err = write(f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("mkimage: writing %s: %w", name, cerr)
	}
	if err == nil {
		// CreateTemp makes 0600 files; outputs are ordinary build products.
		if err = os.Chmod(f.Name(), 0o644); err != nil {
			err = fmt.Errorf("mkimage: writing %s: %w", name, err)
		}
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// writeDisk writes the root disk for tree to a temporary file in dir and
// returns its path; the caller renames it into place or removes it.
func writeDisk(dir string, tree initfs.Options, size uint64, modTime time.Time) (string, rootdisk.Stats, error) {
	entries, err := initfs.Entries(tree)
	if err != nil {
		return "", rootdisk.Stats{}, fmt.Errorf("mkimage: %w", err)
	}
	f, err := os.CreateTemp(dir, ".root.img.*")
	if err != nil {
		return "", rootdisk.Stats{}, fmt.Errorf("mkimage: creating root.img: %w", err)
	}
	f.Close()
	st, err := rootdisk.Write(f.Name(), entries, rootdisk.Options{Size: size, ModTime: modTime})
	if err == nil {
		err = os.Chmod(f.Name(), 0o644) // as writeTemp does
	}
	if err != nil {
		os.Remove(f.Name())
		return "", rootdisk.Stats{}, fmt.Errorf("mkimage: root.img: %w", err)
	}
	return f.Name(), st, nil
}

func writeBytes(b []byte) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}
}

// humanSize formats n like the summary line wants: "512 B", "12 KiB",
// "4.1 MiB".
func humanSize(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%d KiB", (n+1<<9)>>10) // nearest
	default:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
}
