// Package devreg is the PCI manager's side of drivers and of the programs
// that look for devices: the registry protocol pcid serves, and the handle
// set every driver pcid starts is given (docs/drivers.md).
//
// # What a driver starts with
//
// pcid starts one process per PCI function a driver manifest matches. Its
// handles (libos.InitialHandles) are, in order:
//
//	0  the registry: a client capability on pcid's endpoint, badged with
//	   the function, to Register the driver's own endpoint with
//	1  the function's device capability (libos.DevDerive): DMA memory and
//	   MSI vectors for this device only
//	2  a read-only window on the function's 4 KiB of configuration space
//	3… one per BAR listed in VALENCE_PCI_BARS, in that order: a register
//	   window for a memory BAR, an I/O port range for an I/O BAR
//
//	…  for a function with MSI but no MSI-X, an IRQ capability for its one
//	   MSI vector, which pcid has programmed into the function; its index
//	   among the handles is in VALENCE_PCI_MSI
//
// and its environment has VALENCE_PCI_ADDR (bus:device.function) and
// VALENCE_PCI_BARS (BAR indices, comma-separated). pcid has enabled memory
// decoding and bus mastering, and, for a device with MSI-X, enabled MSI-X
// with every vector masked: the driver fills table entries (in its BAR)
// with what libos.DevMSI gives and unmasks them. The driver cannot write
// configuration space.
//
// # The registry protocol
//
//	Register  RegisterRequest -> Empty      a driver offers its endpoint
//	Lookup    LookupRequest -> LookupReply  a client capability on a driver
//	List      Empty -> ListReply            every function, with its driver
package devreg

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
)

// Empty is a request or reply with nothing in it.
type Empty struct{}

// RegisterRequest offers a driver's endpoint under Name ("nvme0"), of
// Kind ("block", "nic", ...). Server is a client capability on it, which
// pcid keeps and hands out copies of.
type RegisterRequest struct {
	Name   string
	Kind   string
	Server ipc.Handle
}

// LookupRequest asks for the driver registered as Name.
type LookupRequest struct {
	Name string
}

// LookupReply carries a client capability on the driver's endpoint.
type LookupReply struct {
	Kind   string
	Server ipc.Handle
}

// Function is one PCI function as pcid found it.
type Function struct {
	Addr   string // "00:04.0"
	Vendor uint16
	Device uint16
	Class  uint8
	Sub    uint8
	ProgIF uint8
	Line   string // lspci-style description
	Driver string // the manifest's driver, or "" if none matched
	PID    int32  // the driver's process, 0 if none is running
	Name   string // what the driver registered as, if it has
	State  string // "no driver", "starting", "running", "exited: ...", "failed: ..."
}

// ListReply is every function pcid found, in bus order.
type ListReply struct {
	Functions []Function
}

// The methods. Labels are the wire identity of a method: never reuse one.
var (
	Register = rpc.Method[RegisterRequest, Empty]{Label: 1, Name: "Register"}
	Lookup   = rpc.Method[LookupRequest, LookupReply]{Label: 2, Name: "Lookup"}
	List     = rpc.Method[Empty, ListReply]{Label: 3, Name: "List"}
)

// Protocol is the registry protocol.
var Protocol = rpc.NewProtocol("devreg", Register.Def(), Lookup.Def(), List.Def())

// The protocol's errors.
var (
	// ErrNotFound: no driver registered under that name (yet).
	ErrNotFound = &rpc.Error{Code: int32(syscall.ENOENT), Msg: "devreg: no such device"}
	// ErrNotDriver: Register through a capability pcid did not give a
	// driver, or a second Register from the same one.
	ErrNotDriver = &rpc.Error{Code: int32(syscall.EPERM), Msg: "devreg: only a driver pcid started may register, once"}
)

// Driver is what a driver process was started with.
type Driver struct {
	Registry ipc.Handle
	Function ipc.Handle
	Config   ipc.Handle
	Addr     string
	// BARs maps a BAR index to its handle.
	BARs map[int]ipc.Handle
	// MSI is the IRQ capability of the function's MSI vector, which pcid
	// programmed (functions with MSI but no MSI-X), or 0.
	MSI ipc.Handle
}

// DriverFromEnv decodes a driver's handles and environment, as pcid
// starts it.
func DriverFromEnv(handles []ipc.Handle) (*Driver, error) {
	if len(handles) < 3 {
		return nil, fmt.Errorf("devreg: started with %d handles, want at least 3 (was it started by pcid?)", len(handles))
	}
	d := &Driver{Registry: handles[0], Function: handles[1], Config: handles[2],
		Addr: os.Getenv("VALENCE_PCI_ADDR"), BARs: map[int]ipc.Handle{}}
	if v := os.Getenv("VALENCE_PCI_BARS"); v != "" {
		for i, s := range strings.Split(v, ",") {
			bar, err := strconv.Atoi(s)
			if err != nil || bar < 0 || bar > 5 || 3+i >= len(handles) {
				return nil, fmt.Errorf("devreg: bad VALENCE_PCI_BARS %q for %d handles", v, len(handles))
			}
			d.BARs[bar] = handles[3+i]
		}
	}
	if v := os.Getenv("VALENCE_PCI_MSI"); v != "" {
		i, err := strconv.Atoi(v)
		if err != nil || i < 3 || i >= len(handles) {
			return nil, fmt.Errorf("devreg: bad VALENCE_PCI_MSI %q for %d handles", v, len(handles))
		}
		d.MSI = handles[i]
	}
	return d, nil
}

// IndexEnv names the environment variable in which pcid tells a driver
// which of the functions it drives this one is: 0 for the first in
// address order, 1 for the next... The index is the same each time the
// driver is restarted, so a driver names its device from it ("vda",
// "vdb"; "nvme0", "nvme1") and names stay put across restarts and boots
// of the same machine.
const IndexEnv = "VALENCE_PCI_INDEX"

// Index returns the driver's index (IndexEnv), 0 if unset or malformed.
func Index() int {
	n, err := strconv.Atoi(os.Getenv(IndexEnv))
	if err != nil || n < 0 {
		return 0
	}
	return n
}
