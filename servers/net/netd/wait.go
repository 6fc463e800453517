package netd

import (
	"context"
	"sort"

	"valence.dev/servers/net/sockproto"
	"valence.dev/servers/net/stack"
)

// client is what one badge holds, and its readiness record for Wait.
type client struct {
	socks    map[uint32]*sock
	nextSock uint32
	bufs     map[uint32]*Shared
	nextBuf  uint32
	bytes    int64 // socket buffer bytes charged to this client

	// seq numbers the changes of readiness; changed holds, for each
	// socket changed since the last acknowledged reply, the seq of its
	// latest change. wakeCh is closed and replaced at every change, so a
	// held Wait (outside the loop) selects on it.
	seq     uint64
	changed map[uint32]uint64
	wakeCh  chan struct{}
	waiting int    // Waits being held
	waitGen uint64 // the newest Wait: older ones return at once
	gone    bool   // forgotten: held Waits return
}

func newClient() *client {
	return &client{
		socks:   make(map[uint32]*sock),
		bufs:    make(map[uint32]*Shared),
		changed: make(map[uint32]uint64),
		wakeCh:  make(chan struct{}),
	}
}

// wake ends the current wait on wakeCh.
func (c *client) wake() {
	close(c.wakeCh)
	c.wakeCh = make(chan struct{})
}

// record notes a change of so's readiness.
func (c *client) record(so *sock) {
	c.seq++
	c.changed[so.id] = c.seq
	c.wake()
}

// recheck records a change if so's readiness differs from what was last
// seen: the client's own calls change readiness too (a read that drains
// the data, a connect that begins), and the stack does not notify those.
func (c *client) recheck(so *sock) {
	if ev := so.events(); ev != so.lastEv {
		so.lastEv = ev
		c.record(so)
	}
}

// notified is the stack's readiness callback for so (on the loop): always
// a change, even if the level is the same, since new data is an edge to
// an edge-triggered epoll.
func (c *client) notified(so *sock) {
	if so.closed {
		return
	}
	so.lastEv = so.events()
	c.record(so)
}

// collect builds the reply to a Wait that has taken in everything up to
// since: the sockets changed after it, oldest change first, at most
// MaxReady, with their current events. It reports false if there are
// none.
func (c *client) collect(since uint64) (sockproto.WaitReply, bool) {
	if since > c.seq {
		// A Seq this client never had (from before a netd restart):
		// start again from nothing taken in.
		since = 0
	}
	type entry struct {
		id  uint32
		seq uint64
	}
	var list []entry
	for id, seq := range c.changed {
		if seq <= since {
			delete(c.changed, id) // acknowledged
			continue
		}
		list = append(list, entry{id, seq})
	}
	if len(list) == 0 {
		return sockproto.WaitReply{}, false
	}
	sort.Slice(list, func(i, j int) bool { return list[i].seq < list[j].seq })
	list = list[:min(len(list), sockproto.MaxReady)]
	rep := sockproto.WaitReply{Seq: list[len(list)-1].seq, Ready: make([]sockproto.Ready, len(list))}
	for i, e := range list {
		rep.Ready[i] = sockproto.Ready{Sock: e.id, Events: c.socks[e.id].events()}
	}
	return rep, true
}

// Wait implements sockproto.Handler: the long poll. It answers at once
// if the client has changes newer than req.Seq, else holds the call —
// outside the loop, on the client's wake channel — until it has some,
// the context ends, the client is forgotten, or a newer Wait from the
// same client arrives (then this one returns an empty reply: one Wait
// per client is held, so a caller that gave up cannot leave calls
// behind that hold serving goroutines forever).
func (s *Server) Wait(ctx context.Context, badge uint64, req sockproto.WaitRequest) (sockproto.WaitReply, error) {
	var (
		c   *client
		gen uint64
	)
	if err := s.do(func(*stack.Stack) error {
		var err error
		if c, err = s.clientFor(badge, true); err != nil {
			return err
		}
		c.waitGen++
		gen = c.waitGen
		c.waiting++
		c.wake() // an older Wait returns
		return nil
	}); err != nil {
		return sockproto.WaitReply{}, err
	}
	defer s.loop.Do(func(*stack.Stack) {
		c.waiting--
		if s.clients[badge] == c {
			s.dropIfIdle(badge)
		}
	})
	for {
		var (
			rep  sockproto.WaitReply
			done bool
			wake chan struct{}
		)
		if err := s.do(func(*stack.Stack) error {
			if c.gone || c.waitGen != gen {
				rep, done = sockproto.WaitReply{Seq: req.Seq}, true
				return nil
			}
			rep, done = c.collect(req.Seq)
			wake = c.wakeCh
			return nil
		}); err != nil {
			return sockproto.WaitReply{}, err
		}
		if done {
			return rep, nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return sockproto.WaitReply{}, ctx.Err()
		}
	}
}
