package main

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"valence.dev/ipc"
	"valence.dev/libos"
	fp "valence.dev/servers/fs/fileproto"
)

// fsd on the NVMe disk (docs/filesystems.md): it formats the disk,
// serves files, is killed, and a new fsd on the same disk still has every
// file whose write was acknowledged by fsync.

func init() { addTest("fsd-persist", testFsdPersist) }

var root0 = fp.Cred{} // uid 0

// startFsd starts /bin/fsd on nvme0 and returns its process and a client
// capability on it.
func startFsd(ctx context.Context, args ...string) (ipc.Handle, fp.Client, error) {
	disk, err := lookup(ctx, "nvme0")
	if err != nil {
		return 0, fp.Client{}, err
	}
	reg, err := libos.NewEndpoint()
	if err != nil {
		return 0, fp.Client{}, err
	}
	defer libos.Close(reg)
	regCopy, err := libos.Dup(reg, ipc.RightWrite|ipc.RightGrant, 0)
	if err != nil {
		return 0, fp.Client{}, err
	}
	died, err := libos.NewNotification()
	if err != nil {
		return 0, fp.Client{}, err
	}
	defer libos.Close(died)
	if err := libos.NotifyBind(died, reg); err != nil {
		return 0, fp.Client{}, err
	}
	p, _, err := libos.ProcSpawn("/bin/fsd", append([]string{"fsd"}, args...), []string{"PATH=/bin"}, []ipc.Handle{disk, regCopy})
	libos.Close(disk)
	libos.Close(regCopy)
	if err != nil {
		return 0, fp.Client{}, err
	}
	libos.ProcNotify(p, died, 1)
	var m, rep ipc.Message
	tok, err := libos.Recv(reg, &m)
	if err != nil {
		return 0, fp.Client{}, err
	}
	if m.Flags == ipc.MsgNotification || m.NHandles != 1 {
		st, _ := libos.ProcWait(p)
		return 0, fp.Client{}, fmt.Errorf("fsd ended before registering (wait status %#x)", uint32(st))
	}
	libos.Reply(reg, tok, &rep)
	return p, fp.Client{T: libos.Endpoint{H: m.Handles[0]}}, nil
}

func testFsdPersist(ctx context.Context) error {
	p, c, err := startFsd(ctx, "-mkfs", "-commit", "1h")
	if err != nil {
		return err
	}
	stamp := fmt.Sprintf("written at %v", time.Now().UnixNano())
	if err := c.Mkdir(ctx, fp.MkdirRequest{Cred: root0, At: fp.At{Path: "logs"}, Mode: 0o755}); err != nil {
		return fmt.Errorf("mkdir: %w", err)
	}
	const files = 50
	for i := 0; i < files; i++ {
		o, err := c.Open(ctx, fp.OpenRequest{Cred: root0, At: fp.At{Path: fmt.Sprintf("logs/%03d", i)},
			Flags: fp.O_RDWR | fp.O_CREAT | fp.O_EXCL, Mode: 0o644})
		if err != nil {
			return fmt.Errorf("creating logs/%03d: %w", i, err)
		}
		if _, err := c.Write(ctx, fp.WriteRequest{Fid: o.Fid, Data: []byte(fmt.Sprintf("%s #%d", stamp, i))}); err != nil {
			return fmt.Errorf("writing logs/%03d: %w", i, err)
		}
		if i == files-1 {
			if err := c.Fsync(ctx, o.Fid); err != nil { // commits everything so far
				return fmt.Errorf("fsync: %w", err)
			}
		}
		c.Close(ctx, o.Fid)
	}
	// Not fsynced, with commits an hour apart: may be lost, must not
	// corrupt anything.
	o, err := c.Open(ctx, fp.OpenRequest{Cred: root0, At: fp.At{Path: "unsynced"}, Flags: fp.O_RDWR | fp.O_CREAT, Mode: 0o644})
	if err == nil {
		c.Write(ctx, fp.WriteRequest{Fid: o.Fid, Data: []byte("maybe")})
	}
	if err := libos.ProcKill(p, syscall.SIGKILL); err != nil {
		return fmt.Errorf("killing fsd: %w", err)
	}
	libos.ProcWait(p)
	libos.Close(p)

	p2, c2, err := startFsd(ctx)
	if err != nil {
		return fmt.Errorf("the second fsd: %w", err)
	}
	defer stopFsd(p2)
	for i := 0; i < files; i++ {
		o, err := c2.Open(ctx, fp.OpenRequest{Cred: root0, At: fp.At{Path: fmt.Sprintf("logs/%03d", i)}, Flags: fp.O_RDONLY})
		if err != nil {
			return fmt.Errorf("logs/%03d after fsd was killed: %w", i, err)
		}
		r, err := c2.Read(ctx, fp.ReadRequest{Fid: o.Fid, Len: 256})
		c2.Close(ctx, o.Fid)
		if want := fmt.Sprintf("%s #%d", stamp, i); err != nil || string(r.Data[:r.N]) != want {
			return fmt.Errorf("logs/%03d reads %q (%v), want %q", i, r.Data[:r.N], err, want)
		}
	}
	d, err := c2.Open(ctx, fp.OpenRequest{Cred: root0, At: fp.At{Path: "logs"}, Flags: fp.O_RDONLY | fp.O_DIRECTORY})
	if err != nil {
		return err
	}
	n := 0
	for {
		g, err := c2.Getdents(ctx, fp.GetdentsRequest{Fid: d.Fid, Max: 64})
		if err != nil {
			return err
		}
		n += len(g.Entries)
		if g.End || len(g.Entries) == 0 {
			break
		}
	}
	if n != files+2 {
		return fmt.Errorf("logs lists %d entries, want %d and . and ..", n, files)
	}
	fmt.Printf("drvtests: fsd: %d fsynced files on nvme0 intact after fsd was killed and restarted\n", files)
	return nil
}

// stopFsd ends an fsd with SIGTERM (it commits) and waits for it.
func stopFsd(p ipc.Handle) {
	libos.ProcKill(p, syscall.SIGTERM)
	libos.ProcWait(p)
	libos.Close(p)
}
