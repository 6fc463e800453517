package main

import (
	"fmt"
	"syscall"

	"valence.dev/ipc"
	"valence.dev/libos"
)

// role plays a child part and returns the exit code.
func role(name string, args []string) int {
	switch name {
	case "server":
		return serve(args)
	case "rpc-server":
		return rpcServer()
	case "no-handles":
		return noHandles()
	case "relay":
		return relay()
	case "caller":
		return caller()
	case "memory":
		return memory()
	}
	fmt.Println("ipctests: unknown role", name)
	return 100
}

// noHandles tries every small handle value: none names anything.
func noHandles() int {
	if len(libos.InitialHandles()) != 0 {
		return 1
	}
	for slot := uint64(1); slot < 64; slot++ {
		for gen := uint64(0); gen < 3; gen++ {
			h := ipc.Handle(gen<<32 | slot)
			var m, rep ipc.Message
			if err := libos.Call(h, &m, &rep); !isErrno(err, syscall.EBADF, syscall.ESTALE) {
				fmt.Printf("no-handles: calling %#x: %v\n", h, err)
				return 2
			}
		}
	}
	return 0
}

// relay passes its one handle on to a grandchild and reports how that
// ended.
func relay() int {
	hs := libos.InitialHandles()
	if len(hs) != 1 {
		return 1
	}
	ph, _, err := libos.ProcSpawn(self, []string{"ipctests", "caller"}, nil, hs)
	if err != nil {
		fmt.Println("relay:", err)
		return 2
	}
	st, err := libos.ProcWait(ph)
	if err != nil || !st.Exited() {
		return 3
	}
	return st.ExitStatus()
}

// caller calls its endpoint until the call fails: it must have succeeded
// at least once, and then fail because the handle was revoked.
func caller() int {
	hs := libos.InitialHandles()
	if len(hs) != 1 {
		return 1
	}
	ok := 0
	for i := 0; i < 100000; i++ {
		var m, rep ipc.Message
		err := libos.Call(hs[0], &m, &rep)
		if err == nil {
			ok++
			continue
		}
		if ok > 0 && isErrno(err, syscall.EBADF, syscall.ESTALE) {
			return 0
		}
		fmt.Printf("caller: after %d calls: %v\n", ok, err)
		return 4
	}
	return 5
}

// memory maps the two memory handles it was given: the writable one to
// flip every byte, the read-only one to check it cannot map it writable.
func memory() int {
	hs := libos.InitialHandles()
	if len(hs) != 2 {
		return 1
	}
	b, err := libos.Map(hs[0], syscall.PROT_READ|syscall.PROT_WRITE)
	if err != nil {
		fmt.Println("memory:", err)
		return 2
	}
	for i := range b {
		if b[i] != byte(i*7) {
			return 3
		}
		b[i] = ^b[i]
	}
	if _, err := libos.Map(hs[1], syscall.PROT_READ|syscall.PROT_WRITE); !isErrno(err, syscall.EACCES) {
		fmt.Println("memory: writable map of a read-only handle:", err)
		return 4
	}
	r, err := libos.Map(hs[1], syscall.PROT_READ)
	if err != nil || r[4096] != b[4096] {
		return 5
	}
	return 0
}
