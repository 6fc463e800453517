package proc

import (
	"fmt"

	"valence.dev/ipc"
	"valence.dev/microkernel/klog"
	"valence.dev/microkernel/rt"
)

// StartFirst starts the first process (init). When it ends, the kernel
// logs how and powers off: QEMU exits 0 only if it exited 0.
func StartFirst(file string, argv, envp []string) (*Process, error) {
	p, err := spawnWith(nil, file, argv, envp, nil, func(p *Process) ([]string, error) {
		// The first process holds the root device capability, from which
		// the PCI manager derives each driver's (docs/drivers.md).
		h, err := p.handles.Insert(deviceRoot, ipc.RightManage|ipc.RightGrant|ipc.RightDuplicate, 0)
		if err != nil {
			return nil, err
		}
		return []string{fmt.Sprintf("VALENCE_DEVICE_ROOT=%#x", uint64(h))}, nil
	}, func(p *Process) error {
		// Its session has the console as its controlling terminal from
		// boot, before it runs (docs/processes.md, "Job control"; package
		// tty: the boot-time fallback).
		jobMu.Lock()
		p.ctty = theConsole
		theConsole.Attach(p.sid, p.pgid, false)
		jobMu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.first = true
	ended := p.exiting
	p.mu.Unlock()
	if ended {
		// It ended before it was marked (a very short program): finish
		// already ran without knowing it was first.
		<-p.dead
		firstExited(p, p.Status())
	}
	return p, nil
}

func firstExited(p *Process, s ExitStatus) {
	klog.Printf("init: pid %d (%s) %s; powering off", p.PID, p.Name, s)
	if s.Code == 0 && s.Signal == 0 {
		rt.PowerOff()
	}
	rt.FailExit(4)
}
