package nvme

import (
	"encoding/binary"
	"testing"

	"valence.dev/drivers/lib/devtest"
)

// FuzzIdentify feeds arbitrary Identify data to both parsers: they must
// never panic, and what they accept must be drivable.
func FuzzIdentify(f *testing.F) {
	ctrl := make([]byte, identifySize)
	copy(ctrl[24:], "model")
	ctrl[512], ctrl[513] = 0x66, 0x44
	binary.LittleEndian.PutUint32(ctrl[516:], 1)
	f.Add(ctrl[:600])
	ns := make([]byte, identifySize)
	binary.LittleEndian.PutUint64(ns, 1000)
	ns[25], ns[26] = 1, 1
	binary.LittleEndian.PutUint32(ns[132:], 12<<16)
	f.Add(ns[:200])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, b := range [][]byte{data, append(data, make([]byte, max(0, identifySize-len(data)))...)} {
			if id, err := parseIdentifyController(b); err == nil {
				if id.Namespaces == 0 || b[512]&0xf > 6 || b[512]>>4 < 6 {
					t.Errorf("accepted controller data with NN %d, SQES %#x", id.Namespaces, b[512])
				}
				_ = id.maxTransfer(maxPRPBytes)
			}
			if n, err := parseIdentifyNamespace(b); err == nil {
				if n.sectors == 0 || n.sectorSize < 512 || n.sectorSize > 65536 || n.sectorSize&(n.sectorSize-1) != 0 {
					t.Errorf("accepted namespace of %d blocks of %d bytes", n.sectors, n.sectorSize)
				}
			}
		}
	})
}

// FuzzCompletions lets a hostile device write anything into a completion
// queue with some commands in flight: reaping must never panic or index
// out of range, must finish each command at most once, and must keep the
// queue's invariants whenever it reports no error.
func FuzzCompletions(f *testing.F) {
	f.Add(uint8(3), uint8(1), make([]byte, 8*cqeSize))
	good := make([]byte, 8*cqeSize)
	for i := range 3 {
		binary.LittleEndian.PutUint16(good[i*cqeSize+8:], uint16(i+1))        // SQHD
		binary.LittleEndian.PutUint16(good[i*cqeSize+10:], 1)                 // SQID
		binary.LittleEndian.PutUint32(good[i*cqeSize+12:], uint32(2-i)|1<<16) // CID, phase
	}
	f.Add(uint8(3), uint8(0), good)
	f.Fuzz(func(t *testing.T, inFlight, consumed uint8, cq []byte) {
		const depth = 8
		regs := devtest.NewRegs(0x2000)
		dma := devtest.NewDMA()
		q, err := newQueue(dma, decodeCAP(1<<37|1<<24|0xff), regs, 1, depth)
		if err != nil {
			t.Fatal(err)
		}
		n := int(inFlight) % depth // 0..7, the most a depth-8 queue holds
		for range n {
			q.backlog = append(q.backlog, &command{sqe: sqe{opcode: ioRead}})
		}
		q.issue(regs, 1<<62)
		q.sqHead = uint16(int(consumed)%(n+1)) % depth // the device consumed some
		copy(q.cq.Bytes, cq)
		seen := map[*command]bool{}
		for range 3 {
			done, _, err := q.reap("fuzz")
			for _, d := range done {
				if seen[d.cmd] {
					t.Fatalf("command CID %d finished twice", d.cmd.cid)
				}
				seen[d.cmd] = true
			}
			if len(q.free)+q.inFlight != depth-1 {
				t.Fatalf("%d free identifiers and %d in flight in a depth-%d queue", len(q.free), q.inFlight, depth)
			}
			if err != nil {
				return
			}
			if unconsumed := int((q.sqTail + depth - q.sqHead) % depth); unconsumed > q.inFlight {
				t.Fatalf("%d SQ entries unconsumed with %d commands in flight", unconsumed, q.inFlight)
			}
		}
	})
}
