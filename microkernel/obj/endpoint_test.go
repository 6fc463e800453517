package obj

import (
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/ipc"
)

// callOnce is one client call as the kernel makes it: send, wait, read
// the reply, recycle the record.
func callOnce(e *Endpoint, caller int, label uint64) (uint64, error) {
	c := NewCall(caller, 0)
	c.Msg.Label = label
	if err := e.Send(c); err != nil {
		return 0, err
	}
	<-c.Done()
	if c.Err != nil {
		return 0, c.Err
	}
	got := c.Reply.Label
	c.Release()
	return got, nil
}

// serve answers calls with label+1 until the endpoint dies or stop.
func serve(e *Endpoint, stop <-chan struct{}) {
	for {
		r, err := e.Receive(stop, false)
		if err != nil {
			return
		}
		label := r.Call.Msg.Label
		tok := r.Call.Token
		if e.Accept(r.Call) != nil {
			return
		}
		rep := ipc.Message{}
		rep.Label = label + 1
		e.Reply(tok, &rep, nil)
	}
}

// TestCallStorm is the kernel panic of issue 10 on the host: many callers
// recycling call records while several receivers reply. Each reply must
// belong to its own call; before completion stopped using sync.Once this
// died with "sync: unlock of unlocked mutex" (and -race reports it at once).
func TestCallStorm(t *testing.T) {
	const callers, servers, calls = 8, 3, 3000
	e := NewEndpoint(1)
	stop := make(chan struct{})
	var swg sync.WaitGroup
	for i := 0; i < servers; i++ {
		swg.Add(1)
		go func() { defer swg.Done(); serve(e, stop) }()
	}
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for id := 0; id < callers; id++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			for i := 0; i < calls; i++ {
				label := uint64(id)<<32 | uint64(i)
				got, err := callOnce(e, id, label)
				if err != nil {
					errs <- err
					return
				}
				if got != label+1 {
					errs <- errors.New("a reply went to the wrong call")
					return
				}
			}
		}(id)
	}
	wg.Wait()
	close(stop)
	swg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestHandOffs checks who owns a call at each stage: a call abandoned in
// the queue or killed with the endpoint drops its request handles; a call
// being delivered (received, not accepted) cannot be replied to; a reply
// after abandonment fails, so the replier keeps its handles.
func TestHandOffs(t *testing.T) {
	type outcome struct {
		SendErr, ReplyErr, CallErr string
		Dropped                    bool
	}
	errString := func(err error) string {
		if err == nil {
			return ""
		}
		return err.Error()
	}
	tests := []struct {
		name string
		run  func(e *Endpoint, c *Call) (replyErr error)
		want outcome
	}{
		{"abandoned in the queue", func(e *Endpoint, c *Call) error {
			e.Abandon(c)
			return nil
		}, outcome{CallErr: ErrInterrupted.Error(), Dropped: true}},
		{"killed in the queue", func(e *Endpoint, c *Call) error {
			e.Kill()
			return nil
		}, outcome{CallErr: ErrPeerDied.Error(), Dropped: true}},
		{"reply before accept", func(e *Endpoint, c *Call) error {
			r, _ := e.Receive(nil, true)
			err := e.Reply(r.Call.Token, &ipc.Message{}, nil)
			e.Accept(r.Call)
			e.Reply(r.Call.Token, &ipc.Message{}, nil)
			return err
		}, outcome{ReplyErr: ErrNoCall.Error()}},
		{"killed while delivering", func(e *Endpoint, c *Call) error {
			r, _ := e.Receive(nil, true)
			e.Kill()
			return e.Accept(r.Call)
		}, outcome{ReplyErr: ErrPeerDied.Error(), CallErr: ErrPeerDied.Error()}},
		{"abandoned after accept", func(e *Endpoint, c *Call) error {
			r, _ := e.Receive(nil, true)
			e.Accept(r.Call)
			e.Abandon(c)
			return e.Reply(r.Call.Token, &ipc.Message{}, nil)
		}, outcome{ReplyErr: ErrNoCall.Error(), CallErr: ErrInterrupted.Error()}},
		{"abandoned while delivering", func(e *Endpoint, c *Call) error {
			r, _ := e.Receive(nil, true)
			e.Abandon(c)
			e.Accept(r.Call)
			return e.Reply(r.Call.Token, &ipc.Message{}, nil)
		}, outcome{ReplyErr: ErrNoCall.Error(), CallErr: ErrInterrupted.Error()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEndpoint(1)
			c := NewCall(2, 0)
			d := &dropCounter{}
			c.Transit = d
			var got outcome
			got.SendErr = errString(e.Send(c))
			got.ReplyErr = errString(tc.run(e, c))
			<-c.Done()
			got.CallErr = errString(c.Err)
			got.Dropped = d.n > 0
			if d.n > 1 {
				t.Errorf("request handles dropped %d times", d.n)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("outcome (-want +got):\n%s", diff)
			}
		})
	}
}

type dropCounter struct{ n int }

func (d *dropCounter) Drop() { d.n++ }
