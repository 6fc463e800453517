package main

import (
	"flag"
	"fmt"
	"io"

	"valence.dev/servers/fs/hostcopy"
)

func runMkfs(args []string, _, stderr io.Writer) error {
	fset := flag.NewFlagSet("mkfs", flag.ContinueOnError)
	size := fset.String("size", "", "image size in bytes (suffix K, M, G or T)")
	from := fset.String("from", "", "host directory to copy into the image")
	args, err := parse(fset, args, 1, 0)
	if err != nil {
		return err
	}
	var bytes uint64
	if *size != "" {
		if bytes, err = hostcopy.ParseSize(*size); err != nil {
			return fmt.Errorf("%w: -size %q: %v", errUsage, *size, err)
		}
	}
	return hostcopy.Create(args[0], bytes, *from, prefixed{stderr, "valfs: mkfs: "})
}

// prefixed writes each warning with a prefix.
type prefixed struct {
	w      io.Writer
	prefix string
}

func (p prefixed) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.w, p.prefix); err != nil {
		return 0, err
	}
	return p.w.Write(b)
}
