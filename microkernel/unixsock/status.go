package unixsock

import "gvisor.dev/gvisor/pkg/abi/linux"

// Status is what /proc/net/unix shows of a socket.
type Status struct {
	Type linux.SockType
	Ino  uint64
	Name Addr // bound name; "" unbound
	// Listening: listen(2) was called. Connected: a connection-oriented
	// socket with a peer, or a datagram socket with a default peer.
	// Embryo: a connection on its listener's queue, not accepted yet.
	Listening, Connected, Embryo bool
}

// Status describes s, and for a listener the connections waiting on it
// to be accepted (which no descriptor holds yet), each marked Embryo.
func (s *Socket) Status() (Status, []Status) {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	var pending []Status
	for _, p := range s.pending {
		st := p.statusLocked()
		st.Embryo = true
		pending = append(pending, st)
	}
	return s.statusLocked(), pending
}

func (s *Socket) statusLocked() Status {
	st := Status{Type: s.typ, Ino: s.ino, Name: s.name, Listening: s.state == listening}
	if s.connectionOriented() {
		st.Connected = s.state == connected
	} else {
		st.Connected = s.peer != nil
	}
	return st
}
