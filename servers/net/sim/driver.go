package sim

import (
	"errors"

	"valence.dev/servers/net/stack"
)

// Driver runs a Network on one goroutine, for servers that drive a stack
// through a loop (netd's Loop): it runs the functions Do hands it and,
// when none are waiting, the network's next event. The fake clock jumps
// to each event, so simulated time runs as fast as the stacks can work.
type Driver struct {
	n    *Network
	reqs chan func()
	stop chan struct{}
	done chan struct{}
}

// NewDriver starts driving n.
func NewDriver(n *Network) *Driver {
	d := &Driver{n: n, reqs: make(chan func()), stop: make(chan struct{}), done: make(chan struct{})}
	go d.run()
	return d
}

func (d *Driver) run() {
	defer close(d.done)
	for {
		select {
		case f := <-d.reqs:
			f()
			continue
		case <-d.stop:
			return
		default:
		}
		if d.n.Step() {
			continue
		}
		select {
		case f := <-d.reqs:
			f()
		case <-d.stop:
			return
		}
	}
}

// Close stops the driver.
func (d *Driver) Close() {
	close(d.stop)
	<-d.done
}

// Loop is the loop of stack s of the driven network: Do runs fn on the
// driver's goroutine, then delivers what it sent.
func (d *Driver) Loop(s *stack.Stack) Loop { return Loop{d, s} }

// Loop runs functions on one stack of a driven network.
type Loop struct {
	d *Driver
	s *stack.Stack
}

// Do runs fn with the stack on the driver's goroutine and waits for it.
func (l Loop) Do(fn func(*stack.Stack)) error {
	done := make(chan struct{})
	select {
	case l.d.reqs <- func() { fn(l.s); l.d.n.Flush(); close(done) }:
	case <-l.d.done:
		return errors.New("sim: driver stopped")
	}
	<-done
	return nil
}
