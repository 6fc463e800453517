package nvme

import (
	"errors"
	"fmt"
)

// Sentinel errors; every error the package returns wraps one of these or
// dev.ErrTimeout (a device that did not answer in time).
var (
	// ErrBadRequest: the request cannot be sent (out of range, buffer too
	// small or misaligned, unknown op, too large).
	ErrBadRequest = errors.New("nvme: bad request")
	// ErrClosed: the controller was closed before or while the request ran.
	ErrClosed = errors.New("nvme: controller closed")
	// ErrDevice: the device broke the protocol or reported impossible
	// values; the controller is disabled and no longer trusted.
	ErrDevice = errors.New("nvme: device misbehaved")
	// ErrUnsupported: a valid device or namespace this driver does not
	// drive (metadata, page sizes, command sets).
	ErrUnsupported = errors.New("nvme: unsupported device")
	// ErrCommandFailed: the device completed a command with an error
	// status; the error is a *StatusError.
	ErrCommandFailed = errors.New("nvme: command failed")
)

// Status is the Status field of a completion queue entry, bits 31:17 of
// Dword 3 shifted down (Base 2.0 §3.3.3.2.1, Figure 92): SC in bits 7:0,
// SCT in 10:8, CRD in 12:11, M in 13, DNR in 14. Zero is success.
type Status uint16

// Status code types (§3.3.3.2.1, Figure 93).
const (
	SCTGeneric         = 0
	SCTCommandSpecific = 1
	SCTMediaError      = 2
	SCTPathRelated     = 3
	SCTVendorSpecific  = 7
)

// Code returns the status code (SC).
func (s Status) Code() uint8 { return uint8(s) }

// Type returns the status code type (SCT).
func (s Status) Type() uint8 { return uint8(s>>8) & 7 }

// DoNotRetry reports the DNR bit: the same command would fail again.
func (s Status) DoNotRetry() bool { return s>>14&1 != 0 }

// More reports the M bit: the Error Information log page has more.
func (s Status) More() bool { return s>>13&1 != 0 }

var statusNames = map[uint16]string{
	// Generic Command Status (§3.3.3.2.1, Figure 94).
	0x000: "Successful Completion",
	0x001: "Invalid Command Opcode",
	0x002: "Invalid Field in Command",
	0x003: "Command ID Conflict",
	0x004: "Data Transfer Error",
	0x005: "Commands Aborted due to Power Loss Notification",
	0x006: "Internal Error",
	0x007: "Command Abort Requested",
	0x008: "Command Aborted due to SQ Deletion",
	0x00b: "Invalid Namespace or Format",
	0x00c: "Command Sequence Error",
	0x013: "PRP Offset Invalid",
	0x015: "Operation Denied",
	0x020: "Namespace is Write Protected",
	0x021: "Command Interrupted",
	0x022: "Transient Transport Error",
	0x080: "LBA Out of Range",
	0x081: "Capacity Exceeded",
	0x082: "Namespace Not Ready",
	0x083: "Reservation Conflict",
	0x084: "Format In Progress",
	// Command Specific Status (§3.3.3.2.1, Figure 95).
	0x100: "Completion Queue Invalid",
	0x101: "Invalid Queue Identifier",
	0x102: "Invalid Queue Size",
	0x108: "Invalid Interrupt Vector",
	0x10d: "Feature Identifier Not Saveable",
	0x10e: "Feature Not Changeable",
	0x180: "Conflicting Attributes",
	0x182: "Attempted Write to Read Only Range",
	// Media and Data Integrity Errors (§3.3.3.2.1).
	0x280: "Write Fault",
	0x281: "Unrecovered Read Error",
	0x282: "End-to-end Guard Check Error",
	0x283: "End-to-end Application Tag Check Error",
	0x284: "End-to-end Reference Tag Check Error",
	0x285: "Compare Failure",
	0x286: "Access Denied",
	0x287: "Deallocated or Unwritten Logical Block",
	// Path Related Status (§3.3.3.2.1).
	0x300: "Internal Path Error",
	0x371: "Command Aborted By Host",
}

var sctNames = [8]string{"Generic", "Command Specific", "Media Error", "Path Related", "SCT 4h", "SCT 5h", "SCT 6h", "Vendor Specific"}

// String names the status, e.g. "LBA Out of Range (SCT 0h, SC 80h, DNR)".
func (s Status) String() string {
	key := uint16(s.Type())<<8 | uint16(s.Code())
	name, ok := statusNames[key]
	if !ok {
		name = sctNames[s.Type()] + " status"
	}
	out := fmt.Sprintf("%s (SCT %xh, SC %02xh", name, s.Type(), s.Code())
	if s.DoNotRetry() {
		out += ", DNR"
	}
	if s.More() {
		out += ", M"
	}
	return out + ")"
}

// StatusError is a command the device completed with an error status.
type StatusError struct {
	Device  string // the controller's name, Options.Name
	Command string // e.g. "Read LBA 8+16 (CID 3, SQ 1)"
	Status  Status
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: %s: %v", e.Device, e.Command, e.Status)
}

// Unwrap makes errors.Is(err, ErrCommandFailed) hold.
func (e *StatusError) Unwrap() error { return ErrCommandFailed }
