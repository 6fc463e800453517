package proc

import (
	"gvisor.dev/gvisor/pkg/abi/linux"

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
var theConsole = tty.New(serialConsole{}, interruptProcess)

// serialConsole is package console as the terminal's device.
type serialConsole struct{}

func (serialConsole) Read(b []byte) int  { return console.Read(b) }
func (serialConsole) Write(b []byte) int { return console.Write(b) }

// interruptProcess sends SIGINT to process pid (^C on the console).
func interruptProcess(pid int) {
	if p, ok := Lookup(pid); ok && p != nil {
		p.postProcessSignal(linux.SIGINT)
	}
}
