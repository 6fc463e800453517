package main

import (
	"bytes"
	"context"
	"fmt"
	"os"

	fp "valence.dev/servers/fs/fileproto"
)

// The root disk make image builds (root.img, a Valence filesystem of the
// image's tree) through the whole chain: nvmed serves it, fsd mounts it
// as it is, and the files read back through the file protocol are the
// initfs's, byte for byte. TestRootDisk runs this alone (DRVTESTS).

func init() { addExplicitTest("fsd-root", testFsdRoot) }

var rootFiles = []string{"etc/motd", "etc/issue", "etc/drivers/nvme.toml", "bin/hello"}

func testFsdRoot(ctx context.Context) error {
	p, c, err := startFsd(ctx) // no -mkfs: the disk must hold a filesystem
	if err != nil {
		return err
	}
	defer stopFsd(p)
	for _, name := range rootFiles {
		want, err := os.ReadFile("/" + name) // the initfs, still the kernel's
		if err != nil {
			return err
		}
		got, err := readAll(ctx, c, name)
		if err != nil {
			return fmt.Errorf("%s through fsd: %w", name, err)
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("%s through fsd: %d bytes, differing from the initfs's %d", name, len(got), len(want))
		}
	}
	fmt.Printf("drvtests: fsd: the image's root disk mounted from nvme0: %d files identical to the initfs\n", len(rootFiles))
	return nil
}

// readAll reads a whole file through the file protocol, inline.
func readAll(ctx context.Context, c fp.Client, name string) ([]byte, error) {
	o, err := c.Open(ctx, fp.OpenRequest{Cred: root0, At: fp.At{Path: name}, Flags: fp.O_RDONLY})
	if err != nil {
		return nil, err
	}
	defer c.Close(ctx, o.Fid)
	var out []byte
	for {
		r, err := c.Read(ctx, fp.ReadRequest{Fid: o.Fid, Off: int64(len(out)), Len: fp.MaxInline})
		if err != nil {
			return nil, err
		}
		if r.N == 0 {
			return out, nil
		}
		out = append(out, r.Data[:r.N]...)
	}
}
