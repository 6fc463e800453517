// Package control is the protocol between init (pid 1) and svc: a client
// connects to init's AF_UNIX stream socket, sends one request frame and
// reads reply frames until one says no more follow; then both close.
//
// # Frames
//
// A frame is a 4-byte little-endian length n (at most MaxFrame) and then
// n bytes: a Request or Reply encoded by valence.dev/ipc/codec, the
// canonical encoding IPC messages use (no handles; nothing here packs
// bytes by hand). Both carry Version first; a peer refuses another
// version with ErrVersion rather than guessing at the layout. The reader
// never trusts a length: one beyond MaxFrame is refused before anything
// is read or allocated, a short frame is an error, and the codec refuses
// any byte string that is not the exact encoding of a value.
//
// # Operations
//
//	List     every service: name, state, pid, restarts, uptime, last exit
//	Start    start a stopped or failed service (uid 0)
//	Stop     stop a service and keep it stopped (uid 0)
//	Restart  stop and start a service, its budget reset (uid 0)
//	Kill     send Signal to the service's process (uid 0); it is then
//	         restarted by its policy, as after any other death
//	Log      the service's recent lines: its output and init's events,
//	         oldest first, in as many frames as they need (More)
//
// init checks the caller's credentials with SO_PEERCRED: operations that
// change a service need uid 0 (Errno EPERM otherwise); List and Log are
// open to everyone.
package control

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"valence.dev/ipc"
	"valence.dev/ipc/codec"
)

// Version is the protocol version this package speaks.
const Version uint8 = 1

// SocketName is init's control socket: an abstract AF_UNIX name (the
// leading '@' stands for the NUL byte, as Go's net package writes it),
// so that it needs no writable directory: a system whose root stayed on
// the read-only initfs has one too.
const SocketName = "@valence/init"

// MaxFrame bounds a frame's payload: what one IPC message carries.
const MaxFrame = ipc.MaxData

// Bounds on fields, checked by Check on both sides.
const (
	MaxName     = 64  // a service name
	MaxServices = 128 // statuses in one reply
	MaxLines    = 256 // log lines in one reply
	MaxLine     = 512 // bytes of one log line
	MaxMessage  = 512 // bytes of an error message
)

// Op is a request's operation.
type Op uint8

const (
	OpList Op = iota + 1
	OpStart
	OpStop
	OpRestart
	OpKill
	OpLog
)

var opNames = map[Op]string{OpList: "list", OpStart: "start", OpStop: "stop", OpRestart: "restart", OpKill: "kill", OpLog: "log"}

func (o Op) String() string {
	if n, ok := opNames[o]; ok {
		return n
	}
	return fmt.Sprintf("op %d", uint8(o))
}

// Privileged reports whether the operation changes a service, and so
// needs uid 0.
func (o Op) Privileged() bool {
	return o == OpStart || o == OpStop || o == OpRestart || o == OpKill
}

// Request is what svc sends.
type Request struct {
	Version uint8
	Op      Op
	Name    string // the service; empty for List
	Signal  int32  // for Kill: 1-64
}

// Reply is one frame of init's answer.
type Reply struct {
	Version  uint8
	Errno    int32  // 0 on success, else a Linux errno
	Message  string // why it failed, or what was done
	Services []Status
	Lines    []string
	More     bool // another Reply frame follows
}

// Status describes one service.
type Status struct {
	Name       string
	State      string // starting, running, stopping, stopped, restarting, failed, skipped, exited
	PID        int32  // 0 when it has no process
	Restarts   uint32 // since boot
	UptimeMS   uint64 // since its current process started; 0 without one
	LastExit   string // how its last process ended, and why if init killed it
	Supervisor string // "init", or "pcid" for a driver
}

// Errors.
var (
	ErrVersion  = errors.New("control: unsupported protocol version")
	ErrTooBig   = errors.New("control: frame too big")
	ErrField    = errors.New("control: field out of bounds")
	ErrNoFrames = errors.New("control: too many reply frames")
)

// Check validates a request's fields beyond the codec's canonical form.
func (r *Request) Check() error {
	switch {
	case r.Version != Version:
		return fmt.Errorf("%w: %d (want %d)", ErrVersion, r.Version, Version)
	case opNames[r.Op] == "":
		return fmt.Errorf("%w: unknown operation %d", ErrField, r.Op)
	case len(r.Name) > MaxName:
		return fmt.Errorf("%w: name of %d bytes", ErrField, len(r.Name))
	case r.Op != OpList && r.Name == "":
		return fmt.Errorf("%w: %s needs a service name", ErrField, r.Op)
	case r.Op == OpKill && (r.Signal < 1 || r.Signal > 64):
		return fmt.Errorf("%w: signal %d", ErrField, r.Signal)
	}
	return nil
}

// Check validates a reply's fields beyond the codec's canonical form.
func (r *Reply) Check() error {
	switch {
	case r.Version != Version:
		return fmt.Errorf("%w: %d (want %d)", ErrVersion, r.Version, Version)
	case len(r.Message) > MaxMessage:
		return fmt.Errorf("%w: message of %d bytes", ErrField, len(r.Message))
	case len(r.Services) > MaxServices:
		return fmt.Errorf("%w: %d services", ErrField, len(r.Services))
	case len(r.Lines) > MaxLines:
		return fmt.Errorf("%w: %d lines", ErrField, len(r.Lines))
	}
	for _, l := range r.Lines {
		if len(l) > MaxLine {
			return fmt.Errorf("%w: a line of %d bytes", ErrField, len(l))
		}
	}
	for _, s := range r.Services {
		if len(s.Name) > MaxName || len(s.State) > MaxName || len(s.LastExit) > MaxMessage || len(s.Supervisor) > MaxName {
			return fmt.Errorf("%w: service %.64q", ErrField, s.Name)
		}
	}
	return nil
}

// WriteFrame encodes v (a *Request or *Reply) and writes it as one frame.
func WriteFrame(w io.Writer, v any) error {
	var m ipc.Message
	if err := codec.Marshal(v, &m); err != nil {
		return err
	}
	if m.NHandles != 0 {
		return fmt.Errorf("control: a frame cannot carry handles")
	}
	buf := make([]byte, 4+m.DataLen)
	binary.LittleEndian.PutUint32(buf, m.DataLen)
	copy(buf[4:], m.Data[:m.DataLen])
	_, err := w.Write(buf)
	return err
}

// MaxReplies bounds the frames of one answer, which a client reads.
const MaxReplies = 64

// Pack splits an answer into frames that each fit MaxFrame: head's
// Errno and Message go in the first, the services and lines are spread
// over as many as they need, and every frame but the last has More set.
// A single item too big for a frame alone is clipped (a line) or left
// out (a status: Check bounds its fields, so this cannot happen for a
// valid one).
func Pack(head Reply, services []Status, lines []string) []Reply {
	head.Version = Version
	head.Services, head.Lines, head.More = nil, nil, false
	out := []Reply{head}
	fits := func(r *Reply) bool {
		var m ipc.Message
		return codec.Marshal(r, &m) == nil
	}
	cur := &out[0]
	next := func() {
		out = append(out, Reply{Version: Version})
		cur = &out[len(out)-1]
	}
	for _, s := range services {
		cur.Services = append(cur.Services, s)
		if fits(cur) && len(cur.Services) <= MaxServices {
			continue
		}
		cur.Services = cur.Services[:len(cur.Services)-1]
		next()
		cur.Services = []Status{s}
		if !fits(cur) {
			cur.Services = nil
		}
	}
	for _, l := range lines {
		if len(l) > MaxLine {
			l = l[:MaxLine]
		}
		cur.Lines = append(cur.Lines, l)
		if fits(cur) && len(cur.Lines) <= MaxLines {
			continue
		}
		cur.Lines = cur.Lines[:len(cur.Lines)-1]
		next()
		cur.Lines = []string{l}
	}
	if len(out) > MaxReplies {
		out = out[len(out)-MaxReplies:] // the newest lines are the ones to keep
		out[0].Errno, out[0].Message = head.Errno, head.Message
	}
	for i := range out {
		out[i].More = i < len(out)-1
	}
	return out
}

// ReadFrame reads one frame and decodes it into v (a *Request or
// *Reply). It refuses a length beyond MaxFrame before reading the
// payload.
func ReadFrame(r io.Reader, v any) error {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return err
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	if n > MaxFrame {
		return fmt.Errorf("%w: %d bytes (at most %d)", ErrTooBig, n, MaxFrame)
	}
	var m ipc.Message
	if _, err := io.ReadFull(r, m.Data[:n]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	m.DataLen = n
	return Decode(m.Data[:n], v)
}

// Decode decodes one frame's payload into v and checks its fields.
func Decode(payload []byte, v any) error {
	if len(payload) > MaxFrame {
		return fmt.Errorf("%w: %d bytes", ErrTooBig, len(payload))
	}
	// Version is the first field of both types, one byte: looked at
	// before the rest, whose layout another version may change.
	if len(payload) > 0 && payload[0] != Version {
		return fmt.Errorf("%w: %d (want %d)", ErrVersion, payload[0], Version)
	}
	var m ipc.Message
	m.DataLen = uint32(copy(m.Data[:], payload))
	if err := codec.Unmarshal(&m, v); err != nil {
		return err
	}
	switch x := v.(type) {
	case *Request:
		return x.Check()
	case *Reply:
		return x.Check()
	}
	return nil
}
