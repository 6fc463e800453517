package nvme

import (
	"fmt"
	"time"

	"valence.dev/drivers/lib/dev"
)

// command is one NVMe command from the time Submit (or an admin call)
// builds it until it is finished exactly once.
type command struct {
	sqe      sqe
	admin    bool
	lba      uint64 // for errors
	count    uint32
	prpList  *dev.Buffer // nil unless the transfer spans > 2 pages
	done     func(error) // I/O: the request's Done
	reply    chan result // admin: receives the result
	deadline time.Time   // set when the command enters the SQ
	cid      uint16
	qid      uint16
}

// result is how a command ended.
type result struct {
	dw0 uint32
	err error
}

// describe names the command for errors.
func (cmd *command) describe() string {
	name := opName(cmd.admin, cmd.sqe.opcode)
	if !cmd.admin && cmd.sqe.opcode != ioFlush {
		name = fmt.Sprintf("%s LBA %d+%d", name, cmd.lba, cmd.count)
	}
	return fmt.Sprintf("%s (CID %d, SQ %d)", name, cmd.cid, cmd.qid)
}

// queue is a submission queue and the completion queue it posts to, with
// the same ID and depth (Base 2.0 §3.3.1: circular queues, empty when
// head equals tail, full when tail+1 equals head).
//
// Invariants, under Controller.mu:
//   - cmds[cid] is the command with that identifier in flight, or nil;
//     free holds exactly the identifiers whose slot is nil.
//   - At most depth-1 commands are in flight, so the CQ cannot overflow.
//   - The SQ entries the device has not consumed (sqTail - sqHead) are
//     no more than the commands in flight, so a free identifier always
//     has a free SQ slot.
//   - cqHead and phase name the next entry the device will post.
type queue struct {
	id       uint16
	depth    uint16
	sq, cq   *dev.Buffer
	sqDB     uint64 // SQ tail doorbell offset
	cqDB     uint64 // CQ head doorbell offset
	sqTail   uint16
	sqHead   uint16 // as the device last reported it (SQHD)
	cqHead   uint16
	phase    bool
	cmds     []*command
	free     []uint16
	inFlight int
	backlog  []*command // waiting for an identifier, in order
}

func newQueue(dma dev.DMA, caps capabilities, regs dev.Regs, id, depth uint16) (*queue, error) {
	q := &queue{id: id, depth: depth, phase: true, cmds: make([]*command, depth-1)}
	var err error
	if q.sqDB, err = caps.doorbell(regs, id, false); err != nil {
		return nil, err
	}
	if q.cqDB, err = caps.doorbell(regs, id, true); err != nil {
		return nil, err
	}
	if q.sq, err = dma.Alloc(uint64(depth)*sqeSize, pageSize); err != nil {
		return nil, fmt.Errorf("queue %d: submission queue memory: %w", id, err)
	}
	if q.cq, err = dma.Alloc(uint64(depth)*cqeSize, pageSize); err != nil {
		dma.Free(q.sq)
		return nil, fmt.Errorf("queue %d: completion queue memory: %w", id, err)
	}
	for cid := int(depth) - 2; cid >= 0; cid-- {
		q.free = append(q.free, uint16(cid))
	}
	return q, nil
}

func (q *queue) release(dma dev.DMA) {
	dma.Free(q.sq)
	dma.Free(q.cq)
}

// issue moves backlogged commands into the SQ while identifiers are free
// and rings the tail doorbell once if it moved.
func (q *queue) issue(regs dev.Regs, timeout time.Duration) {
	if len(q.backlog) == 0 || len(q.free) == 0 {
		return
	}
	now := time.Now()
	for len(q.backlog) > 0 && len(q.free) > 0 {
		cmd := q.backlog[0]
		q.backlog[0] = nil
		q.backlog = q.backlog[1:]
		cid := q.free[len(q.free)-1]
		q.free = q.free[:len(q.free)-1]
		cmd.cid, cmd.qid, cmd.deadline = cid, q.id, now.Add(timeout)
		q.cmds[cid] = cmd
		q.inFlight++
		cmd.sqe.encode(q.sq.Bytes[uint64(q.sqTail)*sqeSize:], cid)
		q.sqTail = (q.sqTail + 1) % q.depth
	}
	regs.Write32(q.sqDB, uint32(q.sqTail))
}

// finished is a command taken off a queue with how it ended.
type finished struct {
	cmd *command
	res result
}

// reap consumes the new completion queue entries (those whose phase tag
// matches), at most depth of them, and returns the commands they finish.
// moved reports whether cqHead changed, so the caller rings the CQ head
// doorbell. An entry that breaks the protocol stops the reaping with an
// error naming the field; the entries before it stand.
func (q *queue) reap(name string) (done []finished, moved bool, err error) {
	for range q.depth {
		e := decodeCQE(q.cq.Bytes[uint64(q.cqHead)*cqeSize:])
		if e.phase != q.phase {
			return done, moved, nil
		}
		q.cqHead++
		if q.cqHead == q.depth {
			q.cqHead, q.phase = 0, !q.phase
		}
		moved = true
		f, err := q.complete(name, e)
		if err != nil {
			return done, moved, err
		}
		done = append(done, f)
	}
	return done, moved, nil
}

// complete checks one entry against the queue's state and retires its
// command.
func (q *queue) complete(name string, e cqe) (finished, error) {
	if e.sqID != q.id {
		return finished{}, fmt.Errorf("%s: CQ %d entry for CID %d names SQID %d: %w", name, q.id, e.cid, e.sqID, ErrDevice)
	}
	if int(e.cid) >= len(q.cmds) || q.cmds[e.cid] == nil {
		return finished{}, fmt.Errorf("%s: CQ %d entry names CID %d, which is not in flight (unknown or completed twice): %w",
			name, q.id, e.cid, ErrDevice)
	}
	// SQHD may only move forward, from the last head towards the tail.
	pending := (q.sqTail + q.depth - q.sqHead) % q.depth
	advance := (e.sqHead + q.depth - q.sqHead) % q.depth
	if e.sqHead >= q.depth || advance > pending {
		return finished{}, fmt.Errorf("%s: CQ %d entry for CID %d has SQHD %d outside head %d..tail %d of SQ %d (depth %d): %w",
			name, q.id, e.cid, e.sqHead, q.sqHead, q.sqTail, q.id, q.depth, ErrDevice)
	}
	// The command completing was consumed, so at most the others in
	// flight may still sit in the SQ.
	if unconsumed := int(pending - advance); unconsumed > q.inFlight-1 {
		return finished{}, fmt.Errorf("%s: CQ %d entry for CID %d has SQHD %d, leaving %d SQ entries unconsumed with %d other commands in flight: %w",
			name, q.id, e.cid, e.sqHead, unconsumed, q.inFlight-1, ErrDevice)
	}
	q.sqHead = e.sqHead
	cmd := q.cmds[e.cid]
	q.cmds[e.cid] = nil
	q.free = append(q.free, e.cid)
	q.inFlight--
	f := finished{cmd: cmd, res: result{dw0: e.dw0}}
	if e.status != 0 {
		f.res.err = &StatusError{Device: name, Command: cmd.describe(), Status: e.status}
	}
	return f, nil
}

// takeAll removes every command, in flight or backlogged, for failing.
func (q *queue) takeAll() []*command {
	var all []*command
	for cid, cmd := range q.cmds {
		if cmd != nil {
			all = append(all, cmd)
			q.cmds[cid] = nil
			q.free = append(q.free, uint16(cid))
		}
	}
	q.inFlight = 0
	all = append(all, q.backlog...)
	q.backlog = nil
	return all
}

// expired returns the first in-flight command whose deadline is past.
func (q *queue) expired(now time.Time) *command {
	for _, cmd := range q.cmds {
		if cmd != nil && now.After(cmd.deadline) {
			return cmd
		}
	}
	return nil
}
