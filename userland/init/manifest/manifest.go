package manifest

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Manifest is a parsed, valid service manifest.
type Manifest struct {
	// Services in dependency order (Order): every service after the
	// services it depends on, ties broken by name.
	Services []*Service
}

// Service is one [service.NAME] table, with defaults filled in.
type Service struct {
	Name    string
	Program string
	Args    []string
	Caps    []Cap
	Serves  Protocol
	Depends []string
	Console bool

	Restart     Policy
	Backoff     Backoff
	MaxRestarts int
	Window      time.Duration

	StartTimeout time.Duration
	StopTimeout  time.Duration
	Heartbeat    time.Duration // 0: no heartbeat
	Timeout      time.Duration // the heartbeat's deadline
	Essential    bool
}

// Backoff is the delay before a restart: Initial for the first restart
// in the window, doubling with each more, at most Max.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
}

// Service returns the service called name, or nil.
func (m *Manifest) Service(name string) *Service {
	for _, s := range m.Services {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Console returns the console service, or nil if there is none.
func (m *Manifest) Console() *Service {
	for _, s := range m.Services {
		if s.Console {
			return s
		}
	}
	return nil
}

// Serving returns the service that serves p, or nil.
func (m *Manifest) Serving(p Protocol) *Service {
	for _, s := range m.Services {
		if s.Serves == p {
			return s
		}
	}
	return nil
}

// HasCap reports whether the service is given a capability of kind k.
func (s *Service) HasCap(k CapKind) bool {
	for _, c := range s.Caps {
		if c.Kind == k {
			return true
		}
	}
	return false
}

// Defaults for keys a service leaves out.
const (
	DefaultMaxRestarts  = 5
	DefaultWindow       = time.Minute
	DefaultInitial      = 250 * time.Millisecond
	DefaultMaxBackoff   = 4 * time.Second
	DefaultStartTimeout = 20 * time.Second
	DefaultStopTimeout  = 10 * time.Second
)

// Bounds: a manifest is small, and a hostile one must be cheap to refuse.
const (
	MaxServices = 32
	MaxNameLen  = 32
	MaxArgs     = 32
	MaxArgLen   = 1024
	MaxCaps     = 8
	MaxDepends  = MaxServices
	MaxPathLen  = 256
	MaxSize     = 64 << 10 // bytes of manifest
	maxRestarts = 1000
)

// file is the TOML layout. Fields whose values are checked while they
// are decoded have types implementing encoding.TextUnmarshaler, so that
// the TOML library reports a bad value with its line.
type file struct {
	Service map[string]*serviceFile `toml:"service"`
}

type serviceFile struct {
	Program      string    `toml:"program"`
	Args         []string  `toml:"args"`
	Caps         []Cap     `toml:"caps"`
	Serves       Protocol  `toml:"serves"`
	Depends      []Name    `toml:"depends"`
	Console      bool      `toml:"console"`
	Restart      *Policy   `toml:"restart"`
	Backoff      *backoff  `toml:"backoff"`
	MaxRestarts  *int64    `toml:"max-restarts"`
	Window       *Duration `toml:"window"`
	StartTimeout *Duration `toml:"start-timeout"`
	StopTimeout  *Duration `toml:"stop-timeout"`
	Heartbeat    *Duration `toml:"heartbeat"`
	Timeout      *Duration `toml:"timeout"`
	Essential    bool      `toml:"essential"`
}

type backoff struct {
	Initial *Duration `toml:"initial"`
	Max     *Duration `toml:"max"`
}

// Parse reads the manifest data, named name in errors ("/etc/init.toml").
// A TOML error keeps the library's text, which names the line.
func Parse(name string, data []byte) (*Manifest, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%s: %d bytes; at most %d", name, len(data), MaxSize)
	}
	var f file
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		keys := make([]string, 0, len(u))
		for _, k := range u {
			keys = append(keys, k.String())
		}
		return nil, fmt.Errorf("%s: unknown keys: %s", name, strings.Join(keys, ", "))
	}
	m, err := build(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}

// build fills in defaults, checks each service and then the whole.
func build(f file) (*Manifest, error) {
	if len(f.Service) == 0 {
		return nil, fmt.Errorf("no [service.NAME] tables")
	}
	if len(f.Service) > MaxServices {
		return nil, fmt.Errorf("%d services; at most %d", len(f.Service), MaxServices)
	}
	names := make([]string, 0, len(f.Service))
	for n := range f.Service {
		names = append(names, n)
	}
	sort.Strings(names)
	var all []*Service
	for _, n := range names {
		s, err := buildService(n, f.Service[n])
		if err != nil {
			return nil, fmt.Errorf("service %q: %w", n, err)
		}
		all = append(all, s)
	}
	if err := checkAll(all); err != nil {
		return nil, err
	}
	ordered, err := order(all)
	if err != nil {
		return nil, err
	}
	return &Manifest{Services: ordered}, nil
}

func buildService(name string, sf *serviceFile) (*Service, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if sf == nil {
		sf = &serviceFile{}
	}
	s := &Service{
		Name: name, Program: sf.Program, Args: sf.Args, Caps: sf.Caps, Serves: sf.Serves,
		Console: sf.Console, Essential: sf.Essential,
		Restart: Always, MaxRestarts: DefaultMaxRestarts, Window: DefaultWindow,
		Backoff:      Backoff{Initial: DefaultInitial, Max: DefaultMaxBackoff},
		StartTimeout: DefaultStartTimeout, StopTimeout: DefaultStopTimeout,
	}
	for _, d := range sf.Depends {
		s.Depends = append(s.Depends, string(d))
	}
	if sf.Restart != nil {
		s.Restart = *sf.Restart
	}
	if sf.Backoff != nil {
		if sf.Backoff.Initial != nil {
			s.Backoff.Initial = time.Duration(*sf.Backoff.Initial)
		}
		if sf.Backoff.Max != nil {
			s.Backoff.Max = time.Duration(*sf.Backoff.Max)
		}
	}
	if sf.MaxRestarts != nil {
		if *sf.MaxRestarts < 0 || *sf.MaxRestarts > maxRestarts {
			return nil, fmt.Errorf("max-restarts = %d is outside 0-%d", *sf.MaxRestarts, maxRestarts)
		}
		s.MaxRestarts = int(*sf.MaxRestarts)
	}
	setDur := func(dst *time.Duration, v *Duration) {
		if v != nil {
			*dst = time.Duration(*v)
		}
	}
	setDur(&s.Window, sf.Window)
	setDur(&s.StartTimeout, sf.StartTimeout)
	setDur(&s.StopTimeout, sf.StopTimeout)
	setDur(&s.Heartbeat, sf.Heartbeat)
	setDur(&s.Timeout, sf.Timeout)
	if s.Heartbeat != 0 && sf.Timeout == nil {
		s.Timeout = 2 * s.Heartbeat
	}
	if err := checkService(s, sf); err != nil {
		return nil, err
	}
	return s, nil
}

// checkService applies the rules that concern one service alone.
func checkService(s *Service, sf *serviceFile) error {
	switch {
	case s.Program == "":
		return fmt.Errorf("program missing")
	case !strings.HasPrefix(s.Program, "/") || len(s.Program) > MaxPathLen || strings.ContainsRune(s.Program, 0):
		return fmt.Errorf("program %q is not an absolute path of at most %d bytes", s.Program, MaxPathLen)
	case len(s.Args) > MaxArgs:
		return fmt.Errorf("%d args; at most %d", len(s.Args), MaxArgs)
	case len(s.Caps) > MaxCaps:
		return fmt.Errorf("%d caps; at most %d", len(s.Caps), MaxCaps)
	case len(s.Depends) > MaxDepends:
		return fmt.Errorf("%d depends; at most %d", len(s.Depends), MaxDepends)
	case s.Backoff.Initial > s.Backoff.Max:
		return fmt.Errorf("backoff initial %v is longer than max %v", s.Backoff.Initial, s.Backoff.Max)
	case s.Heartbeat != 0 && s.Serves == "":
		return fmt.Errorf("heartbeat without serves: there is no protocol to call")
	case sf.Timeout != nil && s.Heartbeat == 0:
		return fmt.Errorf("timeout without heartbeat")
	}
	for _, a := range s.Args {
		if len(a) > MaxArgLen || strings.ContainsRune(a, 0) {
			return fmt.Errorf("an argument longer than %d bytes or holding NUL", MaxArgLen)
		}
	}
	registers := 0
	for _, c := range s.Caps {
		if c.Kind == CapRegister {
			registers++
		}
	}
	switch {
	case registers > 1:
		return fmt.Errorf("caps lists register twice")
	case registers == 1 && s.Serves == "":
		return fmt.Errorf("caps has register but serves is not set: what it registers would mean nothing to init")
	case registers == 0 && s.Serves != "":
		return fmt.Errorf("serves %s but caps lacks register: it could not give init its endpoint", s.Serves)
	}
	if s.Console {
		switch {
		case len(s.Caps) > 0:
			return fmt.Errorf("the console gets no capabilities (it runs with init's environment and descriptors)")
		case s.Restart != Never:
			return fmt.Errorf("the console's restart must be never: its exit ends the system")
		}
	}
	return nil
}

// checkAll applies the rules between services.
func checkAll(all []*Service) error {
	byName := map[string]*Service{}
	for _, s := range all {
		byName[s.Name] = s
	}
	consoles := 0
	servers := map[Protocol]string{}
	for _, s := range all {
		if s.Console {
			consoles++
		}
		if s.Serves != "" {
			if other, dup := servers[s.Serves]; dup {
				return fmt.Errorf("services %q and %q both serve %s; at most one may", other, s.Name, s.Serves)
			}
			servers[s.Serves] = s.Name
		}
		seen := map[string]bool{}
		for _, d := range s.Depends {
			switch {
			case d == s.Name:
				return fmt.Errorf("service %q depends on itself", s.Name)
			case byName[d] == nil:
				return fmt.Errorf("service %q depends on %q, which is not in the manifest", s.Name, d)
			case seen[d]:
				return fmt.Errorf("service %q lists dependency %q twice", s.Name, d)
			}
			seen[d] = true
		}
	}
	if consoles > 1 {
		return fmt.Errorf("%d services have console = true; at most one may", consoles)
	}
	if err := findCycle(all, byName); err != nil {
		return err
	}
	for _, s := range all {
		if err := checkCaps(s, byName, servers[Devreg]); err != nil {
			return fmt.Errorf("service %q: %w", s.Name, err)
		}
	}
	return nil
}

// checkCaps checks that what each capability is drawn from is started
// first. Called once cycles are excluded.
func checkCaps(s *Service, byName map[string]*Service, devreg string) error {
	for _, c := range s.Caps {
		switch c.Kind {
		case CapRootDisk, CapDriver:
			if devreg == "" {
				return fmt.Errorf("capability %s needs a service that serves devreg, and none does", c)
			}
			if !dependsOn(s, devreg, byName) {
				return fmt.Errorf("capability %s comes from %q (it serves devreg), which is not among its dependencies", c, devreg)
			}
		case CapService:
			if !contains(s.Depends, c.Arg) {
				return fmt.Errorf("capability %s needs %q among its depends", c, c.Arg)
			}
			if byName[c.Arg].Serves == "" {
				return fmt.Errorf("capability %s: %q registers nothing (no serves)", c, c.Arg)
			}
		}
	}
	return nil
}

// dependsOn reports whether s depends on target, directly or through
// other services (each visited once: a diamond of dependencies must not
// cost a walk per path).
func dependsOn(s *Service, target string, byName map[string]*Service) bool {
	seen := map[string]bool{}
	queue := append([]string(nil), s.Depends...)
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		if d == target {
			return true
		}
		if !seen[d] {
			seen[d] = true
			queue = append(queue, byName[d].Depends...)
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
