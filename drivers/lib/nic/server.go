package nic

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"

	"valence.dev/ipc/rpc"
)

// Device is a NIC driver's core as the server uses it (netdev.NIC, with
// an adapter for Info). Send and Receive may be called concurrently.
type Device interface {
	Info() LinkInfo
	// Send transmits a frame, which it copies before returning.
	Send(ctx context.Context, frame []byte) error
	// Receive returns the next frame received, waiting for one.
	Receive(ctx context.Context) ([]byte, error)
}

// Options configure a Server.
type Options struct {
	Slots uint32                           // per ring; DefaultSlots if 0
	Logf  func(format string, args ...any) // where detaches are reported; nowhere if nil
}

// Reasons a client is detached, besides protocol errors (which wrap
// ErrProtocol). Each wraps ErrDetached.
var (
	errReplaced = fmt.Errorf("%w: replaced by a newer Attach", ErrDetached)
	errLeft     = fmt.Errorf("%w: the client detached", ErrDetached)
	errStopping = fmt.Errorf("%w: the driver is stopping", ErrDetached)
	errClosed   = &rpc.Error{Code: int32(syscall.ESHUTDOWN), Msg: "nic: the driver is stopping"}
)

// wakeBit is what the server signals its own TxReady with to make the
// transmit goroutine look at its context; the client's bits only wake it.
const wakeBit = 1 << 63

// Server exports a Device with the NIC protocol to one client at a time:
// the latest to Attach (see doc.go). Run moves received frames to the
// client; each attachment has a goroutine moving its transmitted frames to
// the device.
type Server struct {
	dev   Device
	k     Kernel
	slots uint32
	logf  func(format string, args ...any)

	// mu guards cur and closed. Deliveries into cur's ring happen under
	// it, so once an attachment is no longer cur nothing writes its
	// memory but its own transmit goroutine, which stop waits for.
	mu     sync.Mutex
	cur    *attachment
	closed bool

	txFrames, txErrors, rxFrames, rxDropped, rxNoClient, detaches, attaches atomic.Uint64
}

// attachment is one client's rings and notifications.
type attachment struct {
	peer   uint64
	ring   *DriverRing
	free   func()       // the driver's mapping of the rings
	rx, tx Notification // the client's RxReady; the driver's TxReady
	cancel context.CancelFunc
	done   chan struct{} // closed when the transmit goroutine has returned
}

// NewServer returns a server for d; k makes the shared memory and
// notifications (LibOS in a driver).
func NewServer(d Device, k Kernel, o Options) (*Server, error) {
	if o.Slots == 0 {
		o.Slots = DefaultSlots
	}
	if o.Slots > MaxSlots || o.Slots&(o.Slots-1) != 0 {
		return nil, fmt.Errorf("nic: %d slots: want a power of two up to %d", o.Slots, MaxSlots)
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return &Server{dev: d, k: k, slots: o.Slots, logf: o.Logf}, nil
}

// RPC returns the rpc.Server to Serve.
func (s *Server) RPC() *rpc.Server {
	r := rpc.NewServer(Protocol)
	rpc.Handle(r, Info, func(context.Context, uint64, Empty) (LinkInfo, error) { return s.dev.Info(), nil })
	rpc.Handle(r, Attach, s.attach)
	rpc.Handle(r, Detach, s.detach)
	rpc.Handle(r, Stats, func(context.Context, uint64, Empty) (Counters, error) { return s.Counters(), nil })
	return r
}

// Counters returns the frame counters.
func (s *Server) Counters() Counters {
	return Counters{
		TxFrames: s.txFrames.Load(), TxErrors: s.txErrors.Load(),
		RxFrames: s.rxFrames.Load(), RxDropped: s.rxDropped.Load(), RxNoClient: s.rxNoClient.Load(),
		Detaches: s.detaches.Load(), Attaches: s.attaches.Load(),
	}
}

// Run moves received frames into the attached client's receive ring until
// ctx is done (nil) or the device fails (its error).
func (s *Server) Run(ctx context.Context) error {
	for {
		frame, err := s.dev.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		s.deliver(frame)
	}
}

func (s *Server) deliver(frame []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		s.rxNoClient.Add(1)
		return
	}
	switch err := s.cur.ring.Deliver(frame); {
	case err == nil:
		s.rxFrames.Add(1)
	case errors.Is(err, ErrFull):
		s.rxDropped.Add(1)
	default: // detached, now or before
		s.rxNoClient.Add(1)
	}
}

func (s *Server) attach(ctx context.Context, peer uint64, req AttachRequest) (AttachReply, error) {
	rx, err := s.k.Adopt(req.RxReady)
	if err != nil {
		return AttachReply{}, ErrBadHandle
	}
	mem, peerMem, free, err := s.k.NewShared(MemSize(s.slots))
	if err != nil {
		rx.Close()
		return AttachReply{}, err
	}
	tx, peerTx, err := s.k.NewNotification()
	if err != nil {
		s.k.Close(peerMem)
		free()
		rx.Close()
		return AttachReply{}, err
	}
	a := &attachment{peer: peer, free: free, rx: rx, tx: tx, done: make(chan struct{})}
	hooks := DriverHooks{
		Notify:   func() { rx.Signal(ReadyBit) },
		Detached: func(reason error) { s.detached(peer, reason) },
	}
	if a.ring, err = NewDriverRing(mem, s.slots, hooks); err != nil {
		s.k.Close(peerMem)
		s.k.Close(peerTx)
		a.release()
		return AttachReply{}, err
	}
	actx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		cancel()
		s.k.Close(peerMem)
		s.k.Close(peerTx)
		a.release()
		return AttachReply{}, errClosed
	}
	old := s.cur
	s.cur = a
	s.mu.Unlock()
	go s.transmit(actx, a)
	if old != nil {
		s.stop(old, errReplaced)
	}
	s.attaches.Add(1)
	return AttachReply{Mem: peerMem, TxReady: peerTx, Slots: s.slots}, nil
}

func (s *Server) detached(peer uint64, reason error) {
	if errors.Is(reason, ErrProtocol) {
		s.detaches.Add(1)
	}
	s.logf("client %#x detached: %v", peer, reason)
}

func (s *Server) detach(ctx context.Context, peer uint64, _ Empty) (Empty, error) {
	s.mu.Lock()
	a := s.cur
	if a == nil || a.peer != peer {
		s.mu.Unlock()
		return Empty{}, ErrNotAttached
	}
	s.cur = nil
	s.mu.Unlock()
	s.stop(a, errLeft)
	return Empty{}, nil
}

// Close detaches the client and refuses later Attaches.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	a := s.cur
	s.cur = nil
	s.mu.Unlock()
	if a != nil {
		s.stop(a, errStopping)
	}
}

// stop ends an attachment that is no longer cur: the client is told
// (FlagDetached, RxReady), the transmit goroutine is woken and waited
// for, and only then is the memory unmapped.
func (s *Server) stop(a *attachment, reason error) {
	a.ring.Detach(reason)
	a.cancel()
	a.tx.Signal(wakeBit)
	<-a.done
	a.release()
}

func (a *attachment) release() {
	a.free()
	a.rx.Close()
	a.tx.Close()
}

// transmit drains a's transmit ring into the device each time the client
// signals TxReady, until a is stopped or detached.
func (s *Server) transmit(ctx context.Context, a *attachment) {
	defer close(a.done)
	send := func(frame []byte) error {
		if err := s.dev.Send(ctx, frame); err != nil {
			if ctx.Err() != nil {
				return err
			}
			s.txErrors.Add(1) // the device failed; Run reports it
			return nil
		}
		s.txFrames.Add(1)
		return nil
	}
	for {
		if _, err := a.ring.Drain(send); err != nil || ctx.Err() != nil {
			return // detached (the hook said why) or stopping
		}
		if _, err := a.tx.Wait(); err != nil {
			a.ring.Detach(fmt.Errorf("%w: waiting for TxReady: %v", ErrDetached, err))
			return
		}
		if ctx.Err() != nil {
			return
		}
	}
}
