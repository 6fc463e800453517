package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"valence.dev/drivers/lib/dev"
	"valence.dev/drivers/lib/devreg"
	"valence.dev/drivers/pci/pci"
	"valence.dev/ipc"
	"valence.dev/libos"
)

// manager starts drivers and watches them end. Everything it does goes
// through the kernel, so it is exercised in QEMU, not in hosted tests;
// what can be decided without the kernel is in MakePlan and Registry.
type manager struct {
	root  ipc.Handle
	ep    ipc.Handle // pcid's endpoint (unbadged: never given away)
	info  ipc.DevInfo
	space *pci.BusWindows
	fns   []pci.Function
	man   []*pci.Manifest // per function, nil if no driver
	reg   *Registry
	log   func(format string, args ...any)

	deaths ipc.Handle // notification bound to ep: one bit per driver slot

	mu       sync.Mutex
	running  map[int]*driver     // by function index
	slots    []int               // watch slot -> function index
	restarts map[int][]time.Time // recent restarts, by function index
}

// Restart policy: a driver that ends is started again after a delay that
// doubles with each restart in the window (from restartDelay up to
// maxRestartDelay), unless it has been restarted maxRestarts times in the
// last restartWindow: then it is left stopped, and said so.
const (
	restartDelay    = 250 * time.Millisecond
	maxRestartDelay = 8 * time.Second
	maxRestarts     = 5
	restartWindow   = time.Minute
)

// restartAfter decides whether function i's driver is started again, and
// after how long; it records the restart.
func (m *manager) restartAfter(i int, now time.Time) (time.Duration, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.restarts == nil {
		m.restarts = map[int][]time.Time{}
	}
	recent := m.restarts[i][:0]
	for _, t := range m.restarts[i] {
		if now.Sub(t) < restartWindow {
			recent = append(recent, t)
		}
	}
	if len(recent) >= maxRestarts {
		m.restarts[i] = recent
		return 0, false
	}
	d := restartDelay << len(recent)
	if d > maxRestartDelay {
		d = maxRestartDelay
	}
	m.restarts[i] = append(recent, now)
	return d, true
}

// driver is a started driver and everything pcid made for it, all of
// which pcid closes when it ends.
type driver struct {
	name, addr string
	proc       ipc.Handle
	fnCap      ipc.Handle
	handles    []ipc.Handle
	table      *dev.MMIO // pcid's mapping of the MSI-X table BAR, if any
}

func (d *driver) closeAll() {
	for _, h := range d.handles {
		_ = libos.Close(h)
	}
	d.handles = nil
}

// start hands function i to its driver: the plan, the capabilities, the
// Command register and MSI-X, then the process. Any failure is logged,
// undone and recorded as "failed: ..." in the registry; pcid goes on.
// It reports whether the driver was started.
func (m *manager) start(i int) bool {
	f, man := &m.fns[i], m.man[i]
	d := &driver{name: man.Driver.Name, addr: f.Addr.String()}
	fail := func(format string, args ...any) {
		why := fmt.Sprintf(format, args...)
		m.log("%s (%s) failed: %s", d.name, d.addr, why)
		d.closeAll()
		m.reg.Failed(i, why)
	}
	p, err := MakePlan(f, man, m.info.ECAMBase, m.info.ECAMStartBus, os.Getenv("PATH"))
	if err != nil {
		fail("%v", err)
		return false
	}
	p.Env = append(p.Env, fmt.Sprintf("%s=%d", devreg.IndexEnv, driverIndex(m.man, i)))
	for _, n := range p.Notes {
		m.log("%s (%s) note: %s", d.name, d.addr, n)
	}
	if st, err := os.Stat(p.Path); errors.Is(err, fs.ErrNotExist) {
		fail("no %s", p.Path)
		return false
	} else if err != nil {
		fail("%v", err)
		return false
	} else if !st.Mode().IsRegular() {
		fail("%s is not a regular file", p.Path)
		return false
	}

	// Handles 1… of the driver: function, configuration (read-only), BARs.
	if d.fnCap, err = libos.DevDerive(m.root, p.Fn); err != nil {
		fail("%v", err)
		return false
	}
	d.handles = append(d.handles, d.fnCap)
	cfgRW, err := libos.DevMMIO(m.root, p.Config, pci.ConfigSize)
	if err != nil {
		fail("configuration window: %v", err)
		return false
	}
	cfgRO, err := libos.Dup(cfgRW, ipc.RightRead|ipc.RightMap|ipc.RightGrant, 0)
	_ = libos.Close(cfgRW)
	if err != nil {
		fail("configuration window: %v", err)
		return false
	}
	d.handles = append(d.handles, cfgRO)
	for _, w := range p.Windows {
		var h ipc.Handle
		if w.IO {
			h, err = libos.DevPorts(m.root, uint16(w.Base), uint16(w.Size))
		} else {
			h, err = libos.DevMMIO(m.root, w.Base, w.Size)
		}
		if err != nil {
			fail("BAR%d (%#x+%#x): %v", w.BAR, w.Base, w.Size, err)
			return false
		}
		d.handles = append(d.handles, h)
	}

	// The device: decoding, bus mastering, no INTx, MSI-X all masked.
	cfg := m.space.Function(f.Addr.Bus, f.Addr.Device, f.Addr.Function)
	pci.SetCommand(cfg, p.Command, 0)
	if p.MSIXWindow >= 0 {
		if d.table, err = dev.MapMMIO(d.handles[2+p.MSIXWindow]); err == nil {
			err = f.EnableMSIXMasked(cfg, d.table)
		}
		if err != nil {
			quiesce(f, cfg)
			fail("MSI-X: %v", err)
			return false
		}
	}

	// A function with MSI but no MSI-X: its driver cannot program MSI
	// (configuration space is pcid's), so pcid makes the vector through
	// the function's capability and programs it; the driver gets the IRQ.
	env := p.Env
	if f.MSIX == nil && f.MSI != nil {
		irq, msg, err := libos.DevMSI(d.fnCap)
		if err == nil {
			err = f.EnableMSI(cfg, pci.Message{Addr: msg.Addr, Data: msg.Data}, 1)
			d.handles = append(d.handles, irq)
		}
		if err != nil {
			quiesce(f, cfg)
			fail("MSI: %v", err)
			return false
		}
		// Index among the driver's handles, after the registry's.
		env = append(append([]string(nil), env...), fmt.Sprintf("VALENCE_PCI_MSI=%d", len(d.handles)))
	}

	badge := m.reg.Starting(i)
	regCap, err := libos.Dup(m.ep, ipc.RightWrite|ipc.RightGrant, badge)
	if err != nil {
		quiesce(f, cfg)
		fail("registry capability: %v", err)
		return false
	}
	d.handles = append([]ipc.Handle{regCap}, d.handles...)
	proc, pid, err := libos.ProcSpawn(p.Path, p.Argv, env, d.handles)
	if err != nil {
		quiesce(f, cfg)
		fail("%v", err)
		return false
	}
	d.proc = proc
	m.mu.Lock()
	m.running[i] = d
	slot := len(m.slots)
	m.slots = append(m.slots, i)
	m.mu.Unlock()
	m.reg.Started(i, pid)
	m.log("%s (%s) started: pid %d", d.name, d.addr, pid)
	m.watch(i, slot, proc)
	return true
}

// quiesce stops a function whose driver is gone from reaching memory or
// raising interrupts: no bus mastering (DMA and MSI are memory writes),
// MSI and MSI-X off.
func quiesce(f *pci.Function, cfg pci.Config) {
	pci.SetCommand(cfg, 0, pci.CmdBusMaster)
	f.DisableMSI(cfg)
	f.DisableMSIX(cfg)
}

// watch arranges for exited(i) when the driver ends: through a bit on the
// notification bound to pcid's endpoint for the first 64 drivers (the
// serve loop's OnNotify), through a goroutine blocked in ProcWait beyond.
func (m *manager) watch(i, slot int, proc ipc.Handle) {
	if slot < 64 {
		err := libos.ProcNotify(proc, m.deaths, 1<<slot)
		if err == nil {
			return
		}
		m.log("watching %s: %v; waiting instead", m.fns[i].Addr, err)
	}
	go func() {
		st, err := libos.ProcWait(proc)
		m.exited(i, st, err)
	}()
}

// onDeaths is the serve loops' OnNotify: each bit is a driver slot whose
// process has ended, so ProcWait returns at once.
func (m *manager) onDeaths(bits uint64) {
	for slot := 0; slot < 64 && bits != 0; slot++ {
		if bits&(1<<slot) == 0 {
			continue
		}
		bits &^= 1 << slot
		m.mu.Lock()
		var d *driver
		i := -1
		if slot < len(m.slots) {
			i = m.slots[slot]
			d = m.running[i]
		}
		m.mu.Unlock()
		if d == nil {
			continue
		}
		st, err := libos.ProcWait(d.proc)
		m.exited(i, st, err)
	}
}

// exited cleans up after function i's driver: the device is quiesced,
// the registration dropped and every handle given for it closed; then the
// driver is started again (restartAfter), with everything made afresh.
func (m *manager) exited(i int, st libos.WaitStatus, werr error) {
	m.mu.Lock()
	d := m.running[i]
	delete(m.running, i)
	m.mu.Unlock()
	if d == nil {
		return
	}
	how := describeExit(st)
	if werr != nil {
		how = werr.Error()
	}
	m.log("%s (%s) exited: %s", d.name, d.addr, how)
	f := &m.fns[i]
	quiesce(f, m.space.Function(f.Addr.Bus, f.Addr.Device, f.Addr.Function))
	m.reg.Exited(i, how)
	// What the driver passed on of its device capability goes too (the
	// windows cannot be revoked: they carry no Manage right).
	_, _ = libos.Revoke(d.fnCap)
	d.closeAll()
	_ = libos.Close(d.proc)
	if delay, ok := m.restartAfter(i, time.Now()); ok {
		m.log("%s (%s) restarting in %v", d.name, d.addr, delay)
		time.AfterFunc(delay, func() { m.start(i) })
	} else {
		m.log("%s (%s) not restarted: it ended %d times in %v", d.name, d.addr, maxRestarts+1, restartWindow)
	}
}
