package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"valence.dev/userland/init/control"
)

func main() {
	wait := flag.Duration("wait", 60*time.Second, "how long start, stop and restart wait for the service to settle")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: svc [list] | svc start|stop|restart|log NAME | svc kill NAME [SIGNAL]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	req, err := parseCommand(flag.Args())
	if err != nil {
		fmt.Fprintf(os.Stderr, "svc: %v\n", err)
		flag.Usage()
		os.Exit(2)
	}
	os.Exit(run(os.Stdout, req, *wait))
}

// run does req and prints the outcome; it returns the exit status.
func run(out io.Writer, req control.Request, wait time.Duration) int {
	rep, err := call(req)
	if err != nil {
		fmt.Fprintf(os.Stderr, "svc: %v\n", err)
		return 1
	}
	if rep.Errno != 0 {
		fmt.Fprintf(os.Stderr, "svc: %s %s: %s (%v)\n", req.Op, req.Name, rep.Message, syscall.Errno(rep.Errno))
		return 1
	}
	switch req.Op {
	case control.OpList:
		printList(out, rep.Services)
		return 0
	case control.OpLog:
		for _, l := range rep.Lines {
			fmt.Fprintln(out, l)
		}
		return 0
	}
	fmt.Fprintf(out, "svc: %s\n", rep.Message)
	if req.Op == control.OpKill {
		return 0
	}
	st, err := settle(req, wait)
	if err != nil {
		fmt.Fprintf(os.Stderr, "svc: %v\n", err)
		return 1
	}
	fmt.Fprintf(out, "svc: %s\n", describe(st))
	if want := wanted(req.Op); want != "" && st.State != want {
		return 1
	}
	return 0
}

// call sends one request to init.
func call(req control.Request) (control.Reply, error) {
	c, err := net.DialTimeout("unix", control.SocketName, 5*time.Second)
	if err != nil {
		return control.Reply{}, fmt.Errorf("cannot reach init (%s): %w", control.SocketName, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return control.Do(c, req)
}

// settle polls the list until req.Name has left the passing states
// (starting, stopping, restarting) or wait is over.
func settle(req control.Request, wait time.Duration) (control.Status, error) {
	deadline := time.Now().Add(wait)
	for {
		rep, err := call(control.Request{Op: control.OpList})
		if err != nil {
			return control.Status{}, err
		}
		st, ok := find(rep.Services, req.Name)
		if !ok {
			return control.Status{}, fmt.Errorf("%s is no longer listed", req.Name)
		}
		if !passing(st.State) {
			return st, nil
		}
		if time.Now().After(deadline) {
			return st, errors.New(describe(st) + fmt.Sprintf("; still so after %v", wait))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func find(all []control.Status, name string) (control.Status, bool) {
	for _, s := range all {
		if s.Name == name {
			return s, true
		}
	}
	return control.Status{}, false
}

// passing states are on the way to another.
func passing(state string) bool {
	return state == "starting" || state == "stopping" || state == "restarting" || state == "waiting"
}

// wanted is the state an operation should end in.
func wanted(op control.Op) string {
	switch op {
	case control.OpStart, control.OpRestart:
		return "running"
	case control.OpStop:
		return "stopped"
	}
	return ""
}
