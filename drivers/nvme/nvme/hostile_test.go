package nvme_test

import (
	"errors"
	"testing"
	"time"

	"valence.dev/drivers/lib/block"
	"valence.dev/drivers/lib/dev"
	"valence.dev/drivers/nvme/internal/fakenvme"
	"valence.dev/drivers/nvme/nvme"
)

// TestHostileCompletions: a device that breaks the protocol after
// bring-up fails the request (or the next one) with an error naming the
// field; the controller is then disabled, later requests fail at once,
// and Close still gives every DMA buffer back.
func TestHostileCompletions(t *testing.T) {
	cases := []struct {
		name     string
		act      fakenvme.Action
		timeout  time.Duration
		want     error // for the request the action applies to
		mentions []string
		after    error // for a request sent afterwards; nil: the controller still works
	}{
		{"slow but in time", fakenvme.Action{Delay: 30 * time.Millisecond}, time.Second, nil, nil, nil},
		{"unknown CID", fakenvme.Action{SetCID: true, CID: 999}, 0, nvme.ErrDevice,
			[]string{"CQ 1 entry names CID 999, which is not in flight"}, nvme.ErrDevice},
		{"CID beyond queue", fakenvme.Action{SetCID: true, CID: 0xffff}, 0, nvme.ErrDevice,
			[]string{"CID 65535"}, nvme.ErrDevice},
		{"SQ head out of range", fakenvme.Action{BadSQHead: true}, 0, nvme.ErrDevice,
			[]string{"SQHD 67 outside head 0..tail 1 of SQ 1"}, nvme.ErrDevice},
		{"completion too late", fakenvme.Action{Delay: time.Second}, 100 * time.Millisecond, dev.ErrTimeout,
			[]string{"nvme0: Read LBA 3+1 (CID 0, SQ 1) not completed within 100ms", "CSTS=0x1", "SQ 1 tail doorbell 0x1008=1"}, dev.ErrTimeout},
		{"never completed", fakenvme.Action{Drop: true}, 100 * time.Millisecond, dev.ErrTimeout,
			[]string{"not completed within 100ms"}, dev.ErrTimeout},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := mustStart(t, fakenvme.Config{}, nvme.Options{CommandTimeout: tc.timeout})
			r.fake.SetFaults(fakenvme.Faults{Command: func(c fakenvme.Command) fakenvme.Action {
				if c.Queue == 1 && c.LBA == 3 {
					return tc.act
				}
				return fakenvme.Action{}
			}})
			buf := r.buffer(4096)
			err := r.do(block.Request{Op: block.OpRead, LBA: 3, Count: 1, Buf: buf})
			checkErr(t, "request", err, tc.want, tc.mentions...)
			err = r.do(block.Request{Op: block.OpRead, LBA: 4, Count: 1, Buf: buf})
			checkErr(t, "next request", err, tc.after, "controller failed earlier")
		})
	}
}

// A duplicated completion finishes the command once, then fails the
// controller when the copy arrives.
func TestDuplicateCompletion(t *testing.T) {
	r := mustStart(t, fakenvme.Config{}, nvme.Options{})
	r.fake.SetFaults(fakenvme.Faults{Command: func(c fakenvme.Command) fakenvme.Action {
		return fakenvme.Action{Duplicate: c.Queue == 1}
	}})
	buf := r.buffer(4096)
	if err := r.do(block.Request{Op: block.OpRead, LBA: 1, Count: 1, Buf: buf}); err != nil {
		t.Fatalf("first request: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := r.do(block.Request{Op: block.OpRead, LBA: 1, Count: 1, Buf: buf})
		if errors.Is(err, nvme.ErrDevice) {
			checkErr(t, "later request", err, nvme.ErrDevice, "completed twice")
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("controller still in use after a duplicate completion; last error %v", err)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestClose: requests in flight or waiting for a command identifier when
// Close is called each end exactly once, those the device never
// completed with ErrClosed; the controller is shut down and disabled.
func TestClose(t *testing.T) {
	r := mustStart(t, fakenvme.Config{}, nvme.Options{QueueDepth: 16})
	r.fake.SetFaults(fakenvme.Faults{Command: func(c fakenvme.Command) fakenvme.Action {
		return fakenvme.Action{Drop: c.Queue == 1 && c.LBA%2 == 1}
	}})
	buf := r.buffer(40 * 512)
	var chs []<-chan error
	for i := range 40 {
		chs = append(chs, r.submit(block.Request{Op: block.OpWrite, LBA: uint64(i), Count: 1, Buf: buf, Off: uint64(i) * 512}))
	}
	time.Sleep(20 * time.Millisecond) // let the device complete what it will
	if err := r.ctl.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	closed := 0
	for i, ch := range chs {
		err := r.wait(ch)
		if errors.Is(err, nvme.ErrClosed) {
			closed++
		} else if err != nil {
			t.Errorf("request %d: %v", i, err)
		}
	}
	if closed < 20 {
		t.Errorf("%d requests failed with ErrClosed, want at least the 20 dropped", closed)
	}
	if n := r.fake.Stats().Shutdowns; n != 1 {
		t.Errorf("%d shutdown notifications, want 1", n)
	}
	checkErr(t, "Submit after Close", r.do(block.Request{Op: block.OpFlush}), nvme.ErrClosed)
	if err := r.ctl.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestCloseFaults(t *testing.T) {
	t.Run("shutdown never completes", func(t *testing.T) {
		r := mustStart(t, fakenvme.Config{}, nvme.Options{ShutdownTimeout: 50 * time.Millisecond})
		r.fake.SetFaults(fakenvme.Faults{NeverShutdown: true})
		checkErr(t, "Close", r.ctl.Close(), dev.ErrTimeout, "CSTS.SHST=10b", "50ms")
	})
	t.Run("controller never stops", func(t *testing.T) {
		f := fakenvme.New(fakenvme.Config{TO: 1})
		defer f.Close()
		ctl, err := nvme.New(f.Regs, f.DMA, f.IRQ, nvme.Options{})
		if err != nil {
			t.Fatal(err)
		}
		f.SetFaults(fakenvme.Faults{NeverStop: true})
		err = ctl.Close()
		checkErr(t, "Close", err, dev.ErrTimeout, "CSTS.RDY=0 after CC.EN=0", "DMA memory is not freed")
		if f.DMA.Outstanding() == 0 {
			t.Error("DMA memory of a controller that did not stop was freed")
		}
	})
}
