package proc

import (
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/console"
	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/tty"
)

// consoleFiles returns a table with the console on 0, 1 and 2.
func consoleFiles() *kfile.FDTable {
	t := kfile.NewFDTable()
	c := kfile.NewOpenFile(theConsole, linux.O_RDWR, "/dev/console")
	for _, of := range []*kfile.OpenFile{c, c.Retain(), c.Retain()} {
		t.Install(of, 0, false) // 0, 1 and 2 of an empty table: cannot fail
	}
	return t
}

// ConsoleFiles is consoleFiles for other kernel packages.
func ConsoleFiles() *kfile.FDTable { return consoleFiles() }

// theConsole is the serial console as /dev/console, /dev/tty and the
// first process's descriptors 0, 1 and 2.
var theConsole = tty.New(serialConsole{}, consoleJobs{})

// serialConsole is package console as the terminal's device: the line
// discipline does the output processing, so writes go out raw.
type serialConsole struct{}

func (serialConsole) Read(b []byte) int  { return console.Read(b) }
func (serialConsole) Write(b []byte) int { return console.WriteRaw(b) }

// ttyDev is /dev/tty, the caller's controlling terminal (tty(4)): the
// console, the only terminal, for a process that has it as its
// controlling terminal; opening it without one is ENXIO (devfs.go). It
// is the console under another device number, 5:0 as on Linux.
type ttyDev struct{ *tty.Console }

func (ttyDev) Rdev() uint64       { return 5 << 8 }
func (d ttyDev) Stat() linux.Stat { return devStat(d) }

// terminal returns the terminal behind f, if f is one.
func terminal(f kfile.File) (*tty.Console, bool) {
	switch t := f.(type) {
	case *tty.Console:
		return t, true
	case ttyDev:
		return t.Console, true
	}
	return nil, false
}

// openTerminal is what opening a terminal does (devfs.go): /dev/tty needs
// a controlling terminal (ENXIO); the console may become the opener's
// (acquireOnOpen).
func openTerminal(c kfile.Caller, f kfile.File, flags uint32) errno.Errno {
	p := procOf(c)
	switch t := f.(type) {
	case ttyDev:
		if p != nil && !isCtty(p, t.Console) {
			return errno.ENXIO
		}
	case *tty.Console:
		acquireOnOpen(p, t, flags)
	}
	return 0
}
