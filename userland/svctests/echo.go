package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
	"valence.dev/ipc/rpc/echoproto"
	"valence.dev/libos"
)

// serveEcho is the hangd service: the echo protocol's Echo on an endpoint
// registered with init (handle 0, as its manifest entry's caps say),
// until SIGUSR1; from then on every call blocks.
func serveEcho() {
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "svctests: echo service: "+format+"\n", args...)
		os.Exit(1)
	}
	hs := libos.InitialHandles()
	if len(hs) != 1 {
		fail("started with %d handles, want 1 (the registration endpoint)", len(hs))
	}
	var hung atomic.Bool
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR1)
	go func() {
		for range sigs {
			hung.Store(true)
			fmt.Printf("svctests: echo service (pid %d): SIGUSR1: answering no more\n", os.Getpid())
		}
	}()
	srv := rpc.NewServer(echoproto.Protocol)
	never := make(chan struct{})
	rpc.Handle(srv, echoproto.Echo, func(ctx context.Context, badge uint64, s string) (string, error) {
		if hung.Load() {
			<-never
		}
		return s, nil
	})
	ep, err := libos.NewEndpoint()
	if err != nil {
		fail("%v", err)
	}
	client, err := libos.Dup(ep, ipc.RightWrite|ipc.RightGrant|ipc.RightDuplicate, 0)
	if err != nil {
		fail("%v", err)
	}
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- srv.Serve(context.Background(), libos.ServerEndpoint{H: ep}) }()
	}
	var m ipc.Message
	m.Label, m.NHandles, m.Handles[0] = 1, 1, client
	var rep ipc.Message
	if err := libos.Call(hs[0], &m, &rep); err != nil {
		fail("registering: %v", err)
	}
	fmt.Printf("svctests: echo service (pid %d): serving\n", os.Getpid())
	fail("serving: %v", <-errs)
}
