package manifest

import (
	"fmt"
	"strings"
	"time"
)

// The value types below check themselves while the TOML library decodes
// them (UnmarshalText), so that a bad value is reported with its line.

// Policy says whether a service that ended is started again.
type Policy string

const (
	Always    Policy = "always"     // whatever the cause
	OnFailure Policy = "on-failure" // unless it exited with status 0
	Never     Policy = "never"
)

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Policy) UnmarshalText(b []byte) error {
	switch v := Policy(b); v {
	case Always, OnFailure, Never:
		*p = v
		return nil
	}
	return fmt.Errorf("restart policy %q is not always, on-failure or never", clip(b))
}

// Protocol is what a service registers with init (serves).
type Protocol string

const (
	Devreg Protocol = "devreg" // pcid's registry
	RootFS Protocol = "rootfs" // the file protocol, mounted at "/"
	Net    Protocol = "net"    // the socket protocol, the kernel's network server
	Echo   Protocol = "echo"   // the echo protocol: liveness only
)

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Protocol) UnmarshalText(b []byte) error {
	switch v := Protocol(b); v {
	case Devreg, RootFS, Net, Echo:
		*p = v
		return nil
	}
	return fmt.Errorf("serves %q is not one of devreg, rootfs, net, echo", clip(b))
}

// CapKind is a kind of capability init knows how to make.
type CapKind string

const (
	CapDeviceRoot CapKind = "device-root"
	CapRegister   CapKind = "register"
	CapRootDisk   CapKind = "root-disk"
	CapDriver     CapKind = "driver"  // driver:NAME
	CapService    CapKind = "service" // service:NAME
)

// Cap is one entry of caps: a kind, and for driver: and service: the name
// after the colon.
type Cap struct {
	Kind CapKind
	Arg  string
}

func (c Cap) String() string {
	if c.Arg != "" {
		return string(c.Kind) + ":" + c.Arg
	}
	return string(c.Kind)
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (c *Cap) UnmarshalText(b []byte) error {
	kind, arg, hasArg := strings.Cut(string(b), ":")
	switch k := CapKind(kind); {
	case !hasArg && (k == CapDeviceRoot || k == CapRegister || k == CapRootDisk):
		*c = Cap{Kind: k}
		return nil
	case hasArg && (k == CapDriver || k == CapService):
		if err := checkName(arg); err != nil {
			return fmt.Errorf("capability %q: %v", clip(b), err)
		}
		*c = Cap{Kind: k, Arg: arg}
		return nil
	}
	return fmt.Errorf("unknown capability kind %q (known: device-root, register, root-disk, driver:NAME, service:NAME)", clip(b))
}

// Name is a service name in depends.
type Name string

// UnmarshalText implements encoding.TextUnmarshaler.
func (n *Name) UnmarshalText(b []byte) error {
	if err := checkName(string(b)); err != nil {
		return err
	}
	*n = Name(b)
	return nil
}

// checkName accepts 1-32 bytes of [a-z0-9._-], starting with a letter
// or digit: names appear in console lines, svc's columns and pcid's
// registry, so they are kept plain.
func checkName(s string) error {
	if s == "" || len(s) > MaxNameLen {
		return fmt.Errorf("name %q: 1-%d bytes", clip([]byte(s)), MaxNameLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '.' || c == '_' || c == '-')
		if !ok {
			return fmt.Errorf("name %q: only a-z, 0-9 and (not first) . _ -", clip([]byte(s)))
		}
	}
	return nil
}

// Duration is a time.Duration written as a string ("250ms").
type Duration time.Duration

// Bounds on durations: a restart delay, heartbeat or timeout of more
// than an hour is a mistake, and one under 10 ms would spin.
const (
	minDuration = 10 * time.Millisecond
	maxDuration = time.Hour
)

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: write it with a unit, as \"250ms\" or \"5s\"", clip(b))
	}
	if v < minDuration || v > maxDuration {
		return fmt.Errorf("duration %v is outside %v-%v", v, minDuration, maxDuration)
	}
	*d = Duration(v)
	return nil
}

// clip shortens a hostile value for an error message.
func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}
