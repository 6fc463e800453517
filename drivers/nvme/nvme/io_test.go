package nvme_test

import (
	"bytes"
	"fmt"
	"math"
	"math/rand"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/drivers/lib/block"
	"valence.dev/drivers/lib/dev"
	"valence.dev/drivers/nvme/internal/fakenvme"
	"valence.dev/drivers/nvme/nvme"
)

// pattern fills b with bytes that depend on the block number and a seed,
// so a block read from the wrong place or an old write is caught.
func pattern(b []byte, firstLBA uint64, seed byte) {
	for i := range b {
		b[i] = byte(firstLBA+uint64(i/512)) ^ byte(i*7) ^ seed
	}
}

// TestConcurrentIO writes patterns across the whole disk from several
// goroutines with many requests in flight, completing out of order, then
// reads everything back the same way.
func TestConcurrentIO(t *testing.T) {
	const (
		sectors    = 8192
		goroutines = 8
		perRequest = 16 // blocks
	)
	r := mustStart(t, fakenvme.Config{Sectors: sectors, Jitter: 3e6, Seed: 7}, nvme.Options{QueueDepth: 64})
	region := uint64(sectors / goroutines)
	bufs := make([]*dev.Buffer, goroutines)
	for g := range bufs {
		bufs[g] = r.buffer(region * 512)
	}
	run := func(op block.Op) {
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				base := uint64(g) * region
				var chs []<-chan error
				for off := uint64(0); off < region; off += perRequest {
					chs = append(chs, r.submit(block.Request{Op: op, LBA: base + off, Count: perRequest, Buf: bufs[g], Off: off * 512}))
				}
				for _, ch := range chs {
					if err := r.wait(ch); err != nil {
						t.Errorf("%v: %v", op, err)
					}
				}
			})
		}
		wg.Wait()
	}
	for g, b := range bufs {
		pattern(b.Bytes, uint64(g)*region, 0x5a)
	}
	run(block.OpWrite)
	want := make([][]byte, goroutines)
	for g, b := range bufs {
		want[g] = append([]byte(nil), b.Bytes...)
		clear(b.Bytes)
	}
	run(block.OpRead)
	for g, b := range bufs {
		if !bytes.Equal(b.Bytes, want[g]) {
			t.Errorf("goroutine %d read back different data", g)
		}
	}
	st := r.fake.Stats()
	if st.MaxInFlight < 32 {
		t.Errorf("at most %d commands were in flight, want at least 32", st.MaxInFlight)
	}
	if len(st.DMAFaults) != 0 || st.InvalidDoorbells != 0 {
		t.Errorf("device saw DMA faults %v and %d invalid doorbells", st.DMAFaults, st.InvalidDoorbells)
	}
}

// TestPRP moves transfers of many shapes and checks the data and how
// the device had to find it (PRP1 only, PRP2, or a PRP list).
func TestPRP(t *testing.T) {
	cases := []struct {
		name     string
		blocks   uint32
		off      uint64
		wantList bool
	}{
		{"one block", 1, 0, false},
		{"one page", 8, 0, false},
		{"two pages", 16, 0, false},
		{"one page across a boundary", 8, 512, false},
		{"dword offset", 1, 4092, false},
		{"three pages", 24, 0, true},
		{"two pages, unaligned, three touched", 16, 4, true},
		{"2 MiB", 4096, 0, true},
		{"2 MiB across 513 pages", 4096, 2048, true},
	}
	r := mustStart(t, fakenvme.Config{Sectors: 65536}, nvme.Options{})
	out := r.buffer(4<<20 + 4096)
	in := r.buffer(4<<20 + 4096)
	rng := rand.New(rand.NewSource(1))
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lba := uint64(i) * 4096
			n := uint64(tc.blocks) * 512
			rng.Read(out.Bytes[tc.off : tc.off+n])
			before := r.fake.Stats().PRPListCommands
			if err := r.do(block.Request{Op: block.OpWrite, LBA: lba, Count: tc.blocks, Buf: out, Off: tc.off}); err != nil {
				t.Fatalf("write: %v", err)
			}
			if err := r.do(block.Request{Op: block.OpRead, LBA: lba, Count: tc.blocks, Buf: in, Off: tc.off}); err != nil {
				t.Fatalf("read: %v", err)
			}
			if !bytes.Equal(in.Bytes[tc.off:tc.off+n], out.Bytes[tc.off:tc.off+n]) {
				t.Error("read back different data")
			}
			if !bytes.Equal(r.fake.Disk(lba*512, n), out.Bytes[tc.off:tc.off+n]) {
				t.Error("disk holds different data")
			}
			st := r.fake.Stats()
			if got := st.PRPListCommands > before; got != tc.wantList {
				t.Errorf("PRP list used: %v, want %v", got, tc.wantList)
			}
			if len(st.DMAFaults) != 0 {
				t.Errorf("DMA faults: %v", st.DMAFaults)
			}
		})
	}
}

// TestBadRequests: a request that cannot be sent fails through Done at
// once, and the device sees nothing.
func TestBadRequests(t *testing.T) {
	r := mustStart(t, fakenvme.Config{Sectors: 1000, MDTS: 2}, nvme.Options{})
	buf := r.buffer(8192)
	cases := []struct {
		name     string
		req      block.Request
		mentions string
	}{
		{"no blocks", block.Request{Op: block.OpRead, Count: 0, Buf: buf}, "Read of 0 blocks"},
		{"past the end", block.Request{Op: block.OpRead, LBA: 999, Count: 2, Buf: buf}, "LBA 999+2 beyond the namespace's 1000 blocks"},
		{"LBA at the end", block.Request{Op: block.OpWrite, LBA: 1000, Count: 1, Buf: buf}, "LBA 1000+1"},
		{"LBA wraps", block.Request{Op: block.OpRead, LBA: math.MaxUint64, Count: 2, Buf: buf}, "beyond the namespace"},
		{"beyond MDTS", block.Request{Op: block.OpRead, Count: 33, Buf: buf}, "exceeds the 32 one request may move (MDTS 2)"},
		{"no buffer", block.Request{Op: block.OpWrite, Count: 1}, "without a buffer"},
		{"buffer too small", block.Request{Op: block.OpRead, Count: 16, Buf: buf, Off: 512}, "does not fit a 8192-byte buffer"},
		{"offset past buffer", block.Request{Op: block.OpRead, Count: 1, Buf: buf, Off: 1 << 40}, "does not fit"},
		{"misaligned", block.Request{Op: block.OpRead, Count: 1, Buf: buf, Off: 2}, "not 4-byte aligned"},
		{"unknown op", block.Request{Op: 9, Count: 1, Buf: buf}, "unknown op 9"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := r.fake.Stats().Commands
			calls := 0
			var got error
			req := tc.req
			req.Done = func(err error) { calls++; got = err }
			r.ctl.Submit(&req)
			if calls != 1 {
				t.Fatalf("Done called %d times before Submit returned, want 1", calls)
			}
			checkErr(t, "Submit", got, nvme.ErrBadRequest, "nvme0", tc.mentions)
			if n := r.fake.Stats().Commands - before; n != 0 {
				t.Errorf("device saw %d commands", n)
			}
		})
	}
}

// TestStatus: error statuses come back as *StatusError naming the
// command and status, and the controller carries on.
func TestStatus(t *testing.T) {
	cases := []struct {
		status uint16
		op     block.Op
		want   string
	}{
		{0x281 | 1<<14, block.OpRead, "nvme0: Read LBA 100+1 (CID 0, SQ 1): Unrecovered Read Error (SCT 2h, SC 81h, DNR)"},
		{0x080, block.OpWrite, "nvme0: Write LBA 100+1 (CID 0, SQ 1): LBA Out of Range (SCT 0h, SC 80h)"},
		{0x006 | 1<<13, block.OpFlush, "nvme0: Flush (CID 0, SQ 1): Internal Error (SCT 0h, SC 06h, M)"},
		{0x3c1, block.OpRead, "Path Related status (SCT 3h, SC c1h)"},
		{0x7ee, block.OpRead, "Vendor Specific status (SCT 7h, SC eeh)"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%#x", tc.status), func(t *testing.T) {
			r := mustStart(t, fakenvme.Config{}, nvme.Options{})
			r.fake.SetFaults(fakenvme.Faults{Command: func(c fakenvme.Command) fakenvme.Action {
				if c.Queue == 1 && (c.LBA == 100 || c.Opcode == 0) {
					return fakenvme.Action{Status: tc.status}
				}
				return fakenvme.Action{}
			}})
			buf := r.buffer(4096)
			err := r.do(block.Request{Op: tc.op, LBA: 100, Count: 1, Buf: buf})
			checkErr(t, "request", err, nvme.ErrCommandFailed, tc.want)
			var se *nvme.StatusError
			if !errorsAs(err, &se) || se.Status != nvme.Status(tc.status) {
				t.Errorf("error %v is not a *StatusError with status %#x", err, tc.status)
			}
			if err := r.do(block.Request{Op: block.OpRead, LBA: 5, Count: 1, Buf: buf}); err != nil {
				t.Errorf("next request: %v", err)
			}
		})
	}
}

func TestStatusNames(t *testing.T) {
	got := map[string]string{}
	for _, s := range []nvme.Status{0, 0x002, 0x00b, 0x013, 0x101, 0x287, 0x4a0} {
		got[fmt.Sprintf("%#x", uint16(s))] = s.String()
	}
	want := map[string]string{
		"0x0":   "Successful Completion (SCT 0h, SC 00h)",
		"0x2":   "Invalid Field in Command (SCT 0h, SC 02h)",
		"0xb":   "Invalid Namespace or Format (SCT 0h, SC 0bh)",
		"0x13":  "PRP Offset Invalid (SCT 0h, SC 13h)",
		"0x101": "Invalid Queue Identifier (SCT 1h, SC 01h)",
		"0x287": "Deallocated or Unwritten Logical Block (SCT 2h, SC 87h)",
		"0x4a0": "SCT 4h status (SCT 4h, SC a0h)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}
