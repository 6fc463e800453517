package memtransport_test

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
	"valence.dev/ipc/rpc/memtransport"
)

var (
	_ rpc.Transport       = (*memtransport.Client)(nil)
	_ rpc.ServerTransport = (*memtransport.Server)(nil)
)

func message(label uint64, data string, hs ...ipc.Handle) *ipc.Message {
	m := &ipc.Message{}
	m.Label = label
	m.DataLen = uint32(copy(m.Data[:], data))
	m.NHandles = uint32(copy(m.Handles[:], hs))
	return m
}

// result is what a background Call ended with.
type result struct {
	rep *ipc.Message
	err error
}

// call starts c.Call(ctx, req) in the background.
func call(ctx context.Context, c *memtransport.Client, req *ipc.Message) chan result {
	ch := make(chan result, 1)
	go func() {
		rep := new(ipc.Message)
		err := c.Call(ctx, req, rep)
		ch <- result{rep, err}
	}()
	return ch
}

func TestCallCopiesLikeTheKernel(t *testing.T) {
	_, end := memtransport.New()
	c := end.Client(7)
	req := message(5, "abc", 0x11)
	req.Badge = 123                 // the caller cannot choose its badge
	req.Flags = ipc.MsgNotification // nor pretend to be a notification
	req.Data[10] = 0xee             // beyond DataLen: not copied
	done := call(context.Background(), c, req)

	var got ipc.Message
	to, err := end.Receive(context.Background(), &got)
	if err != nil {
		t.Fatal(err)
	}
	want := *message(5, "abc", 0x11)
	want.Badge = 7
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("received (-want +got):\n%s", diff)
	}
	got.Data[0] = 'X' // the server's copy is its own
	if req.Data[0] != 'a' {
		t.Errorf("server's change reached the caller's request")
	}

	reply := message(5, "reply", 0x22)
	reply.Status = 3
	if err := end.Reply(to, reply); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if diff := cmp.Diff(*reply, *r.rep); diff != "" {
		t.Errorf("reply (-want +got):\n%s", diff)
	}
}

func TestLimits(t *testing.T) {
	c, end := memtransport.New()
	tooLong := message(1, "")
	tooLong.DataLen = ipc.MaxData + 1
	tooMany := message(1, "")
	tooMany.NHandles = ipc.MaxHandles + 1
	for _, m := range []*ipc.Message{tooLong, tooMany} {
		if err := c.Call(context.Background(), m, new(ipc.Message)); !errors.Is(err, syscall.EMSGSIZE) {
			t.Errorf("Call(DataLen %d, NHandles %d): %v, want EMSGSIZE", m.DataLen, m.NHandles, err)
		}
	}

	// An oversized reply fails and leaves the caller waiting for a good one.
	done := call(context.Background(), c, message(1, "q"))
	var m ipc.Message
	to, err := end.Receive(context.Background(), &m)
	if err != nil {
		t.Fatal(err)
	}
	if err := end.Reply(to, tooLong); !errors.Is(err, syscall.EMSGSIZE) {
		t.Errorf("Reply oversized: %v, want EMSGSIZE", err)
	}
	if err := end.Reply(to, message(1, "ok")); err != nil {
		t.Errorf("Reply after oversized: %v", err)
	}
	if r := <-done; r.err != nil || string(r.rep.Data[:r.rep.DataLen]) != "ok" {
		t.Errorf("Call = %q, %v; want \"ok\"", r.rep.Data[:r.rep.DataLen], r.err)
	}
}

func TestReplyErrors(t *testing.T) {
	c, end := memtransport.New()
	if err := end.Reply(12345, message(1, "")); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Reply to a token never issued: %v, want EINVAL", err)
	}

	done := call(context.Background(), c, message(1, ""))
	var m ipc.Message
	to, _ := end.Receive(context.Background(), &m)
	if err := end.Reply(to, message(1, "")); err != nil {
		t.Fatal(err)
	}
	<-done
	if err := end.Reply(to, message(1, "")); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("second Reply: %v, want EINVAL", err)
	}

	// A caller that gave up is dead to the server.
	ctx, cancel := context.WithCancel(context.Background())
	done = call(ctx, c, message(1, ""))
	to, _ = end.Receive(context.Background(), &m)
	cancel()
	if r := <-done; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("canceled Call: %v, want %v", r.err, context.Canceled)
	}
	if err := end.Reply(to, message(1, "")); !errors.Is(err, syscall.EOWNERDEAD) {
		t.Errorf("Reply to a caller that gave up: %v, want EOWNERDEAD", err)
	}
}

// TestCancelBeforeReceive checks that a caller that gives up before any
// receiver takes its call is never seen by the server.
func TestCancelBeforeReceive(t *testing.T) {
	c, end := memtransport.New()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := c.Call(ctx, message(1, "lost"), new(ipc.Message)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Call: %v, want %v", err, context.DeadlineExceeded)
	}
	done := call(context.Background(), c, message(2, "next"))
	var m ipc.Message
	to, err := end.Receive(context.Background(), &m)
	if err != nil || m.Label != 2 {
		t.Fatalf("Receive = label %d, %v; want label 2", m.Label, err)
	}
	end.Reply(to, message(2, ""))
	<-done
}

func TestClose(t *testing.T) {
	c, end := memtransport.New()
	// A call received and not answered, and one not received yet.
	answered := call(context.Background(), c, message(1, "a"))
	var m ipc.Message
	to, err := end.Receive(context.Background(), &m)
	if err != nil {
		t.Fatal(err)
	}
	waiting := call(context.Background(), c, message(2, "b"))
	time.Sleep(10 * time.Millisecond)

	// A receiver blocked in another goroutine.
	received := make(chan error, 1)
	go func() {
		time.Sleep(5 * time.Millisecond)
		_, err := end.Receive(context.Background(), new(ipc.Message))
		received <- err
	}()

	if err := end.Close(); err != nil {
		t.Fatal(err)
	}
	for name, ch := range map[string]chan result{"received call": answered, "waiting call": waiting} {
		if r := <-ch; !errors.Is(r.err, syscall.EOWNERDEAD) {
			t.Errorf("%s: %v, want EOWNERDEAD", name, r.err)
		}
	}
	if err := c.Call(context.Background(), message(3, ""), new(ipc.Message)); !errors.Is(err, syscall.EOWNERDEAD) {
		t.Errorf("Call after Close: %v, want EOWNERDEAD", err)
	}
	// The receiver fails whether it blocked before Close or after.
	if err := <-received; !errors.Is(err, memtransport.ErrClosed) {
		t.Errorf("Receive: %v, want %v", err, memtransport.ErrClosed)
	}
	if err := end.Reply(to, message(1, "")); !errors.Is(err, memtransport.ErrClosed) {
		t.Errorf("Reply after Close: %v, want %v", err, memtransport.ErrClosed)
	}
	if err := end.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestReceiveContext(t *testing.T) {
	_, end := memtransport.New()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := end.Receive(ctx, new(ipc.Message)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Receive: %v, want %v", err, context.DeadlineExceeded)
	}
}

func TestNotify(t *testing.T) {
	_, end := memtransport.New()
	end.Notify(0b01)
	end.Notify(0b10)
	var m ipc.Message
	m.DataLen, m.Status = 9, 4 // stale: must be cleared
	to, err := end.Receive(context.Background(), &m)
	if err != nil {
		t.Fatal(err)
	}
	want := ipc.Header{Label: 0b11, Flags: ipc.MsgNotification}
	if diff := cmp.Diff(want, m.Header); to != 0 || diff != "" {
		t.Errorf("Receive = token %d, header (-want +got):\n%s", to, diff)
	}
	// The bits were consumed: nothing more is pending.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := end.Receive(ctx, &m); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second Receive: %v (label %d), want nothing pending", err, m.Label)
	}
}
