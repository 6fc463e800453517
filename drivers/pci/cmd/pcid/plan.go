package main

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"valence.dev/drivers/pci/pci"
)

const (
	pageSize = 4096
	// maxWindow is the largest register window the kernel makes
	// (libos.DevMMIO: more than 256 MiB is EINVAL).
	maxWindow = 256 << 20
)

// Window is one BAR as the driver is given it: a register window over
// [Base, Base+Size) for a memory BAR (whole pages, starting at the BAR's
// first byte), or the I/O ports [Base, Base+Size) for an I/O BAR.
type Window struct {
	BAR  int
	IO   bool
	Base uint64
	Size uint64
}

// Plan is everything pcid does to hand one function to its driver,
// worked out before any system call, so that it can be tested hosted.
type Plan struct {
	Addr pci.Address
	// Fn is the function's number for DevDerive: bus<<8|device<<3|function.
	Fn uint16
	// Config is the physical address of the function's 4 KiB of ECAM.
	Config uint64
	// Windows are the BARs given, in slot order: handles 3… and
	// VALENCE_PCI_BARS.
	Windows []Window
	// MSIXWindow is the index in Windows of the BAR holding the MSI-X
	// table, or -1 if the function has no usable MSI-X.
	MSIXWindow int
	// Command is the bits pcid sets in the Command register.
	Command uint16
	Path    string
	Argv    []string
	Env     []string
	// Notes say which BARs were left out, and why.
	Notes []string
}

// MakePlan plans handing f to the driver of manifest m. ecamBase and
// firstBus describe the ECAM window (ipc.DevInfo); path is the value of
// PATH to give the driver ("" for /bin).
//
// A memory BAR is given whole, rounded up to whole pages. It is left out
// (with a note) when the firmware assigned it no address, when it is
// smaller than a page and not page-aligned (a window must start on a page
// and the driver's offset 0 must be the BAR's first byte), or when it is
// larger than the kernel maps. An I/O BAR is left out when unassigned or
// beyond port 0xFFFF.
func MakePlan(f *pci.Function, m *pci.Manifest, ecamBase uint64, firstBus uint8, pathEnv string) (Plan, error) {
	if f.Addr.Bus < firstBus || f.Addr.Device >= 32 || f.Addr.Function >= 8 {
		return Plan{}, fmt.Errorf("function %v is outside the ECAM window starting at bus %02x", f.Addr, firstBus)
	}
	a := f.Addr
	p := Plan{
		Addr:       a,
		Fn:         uint16(a.Bus)<<8 | uint16(a.Device)<<3 | uint16(a.Function),
		Config:     ecamBase + (uint64(a.Bus-firstBus)<<20 | uint64(a.Device)<<15 | uint64(a.Function)<<12),
		MSIXWindow: -1,
		Command:    pci.CmdBusMaster | pci.CmdINTxDisable,
		Path:       m.Driver.Path,
		Argv:       append([]string{path.Base(m.Driver.Path)}, m.Driver.Args...),
	}
	var bars []string
	for _, b := range f.BARs {
		w, note := window(b)
		if note != "" {
			p.Notes = append(p.Notes, fmt.Sprintf("BAR%d: %s; not given to the driver", b.Index, note))
			continue
		}
		if w.IO {
			p.Command |= pci.CmdIO
		} else {
			p.Command |= pci.CmdMemory
		}
		if f.MSIX != nil && int(f.MSIX.TableBIR) == b.Index {
			p.MSIXWindow = len(p.Windows)
		}
		p.Windows = append(p.Windows, w)
		bars = append(bars, strconv.Itoa(b.Index))
	}
	if f.MSIX != nil && p.MSIXWindow < 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("MSI-X table BAR%d is not given; MSI-X left as found", f.MSIX.TableBIR))
	}
	if pathEnv == "" {
		pathEnv = "/bin"
	}
	p.Env = []string{
		"PATH=" + pathEnv,
		"HOME=/",
		"VALENCE_PCI_ADDR=" + a.String(),
		"VALENCE_PCI_BARS=" + strings.Join(bars, ","),
	}
	return p, nil
}

// driverIndex is function i's index among the functions given the same
// driver (mans[j] is function j's manifest, nil if none), in address
// order: what the driver names its device by (devreg.IndexEnv).
func driverIndex(mans []*pci.Manifest, i int) int {
	n := 0
	for j := 0; j < i; j++ {
		if mans[j] != nil && mans[j].Driver.Name == mans[i].Driver.Name {
			n++
		}
	}
	return n
}

// window works out the window for BAR b, or says why there is none.
func window(b pci.BAR) (Window, string) {
	if b.Base == 0 {
		return Window{}, "no address assigned"
	}
	if b.Kind == pci.BARIO {
		if b.Base+b.Size > 0x10000 {
			return Window{}, fmt.Sprintf("ports %#x+%#x run past 0xffff", b.Base, b.Size)
		}
		return Window{BAR: b.Index, IO: true, Base: b.Base, Size: b.Size}, ""
	}
	if b.Base%pageSize != 0 {
		return Window{}, fmt.Sprintf("%#x bytes at %#x do not start a page", b.Size, b.Base)
	}
	size := (b.Size + pageSize - 1) &^ (pageSize - 1)
	if size > maxWindow {
		return Window{}, fmt.Sprintf("%#x bytes is more than the kernel maps (%#x)", b.Size, maxWindow)
	}
	return Window{BAR: b.Index, Base: b.Base, Size: size}, ""
}
