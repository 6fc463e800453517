package pci

import (
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"
)

// Manifest says which driver serves which functions. It is written in
// TOML:
//
//	[driver]
//	name = "nvmed"          # required
//	path = "/bin/nvmed"     # required, absolute
//	args = ["-queues", "4"] # optional
//
//	[[match]]               # at least one
//	vendor = 0x1b36
//	device = 0x0010
//
//	[[match]]
//	class = 0x01
//	subclass = 0x08
//	prog_if = 0x02
//
// A rule matches a function when every field it gives is equal to the
// function's. The shapes allowed are vendor+device, class,
// class+subclass and class+subclass+prog_if; vendor+device may add class
// fields to narrow it further.
type Manifest struct {
	// Name is where the manifest came from (its file name): it names it
	// in errors and breaks ties between equally specific matches.
	Name   string
	Driver Driver
	Match  []Rule
}

// Driver is the program to start for a matched function.
type Driver struct {
	Name string
	Path string
	Args []string
}

// Rule is one [[match]] table. Fields says which of the others were given.
type Rule struct {
	Vendor   uint16
	Device   uint16
	Class    uint8
	Subclass uint8
	ProgIF   uint8
	Fields   Fields
}

// Fields is a set of Rule fields.
type Fields uint8

const (
	FieldVendor Fields = 1 << iota
	FieldDevice
	FieldClass
	FieldSubclass
	FieldProgIF
)

// Matches reports whether every field r gives equals f's.
func (r Rule) Matches(f *Function) bool {
	return r.Fields != 0 &&
		(r.Fields&FieldVendor == 0 || r.Vendor == f.Vendor) &&
		(r.Fields&FieldDevice == 0 || r.Device == f.Device) &&
		(r.Fields&FieldClass == 0 || r.Class == f.Class) &&
		(r.Fields&FieldSubclass == 0 || r.Subclass == f.Subclass) &&
		(r.Fields&FieldProgIF == 0 || r.ProgIF == f.ProgIF)
}

// Specificity ranks a rule: vendor+device (4 and up, more with class
// fields) beats class+subclass+prog_if (3), class+subclass (2), class (1).
func (r Rule) Specificity() int {
	n := 0
	for _, b := range []Fields{FieldClass, FieldSubclass, FieldProgIF} {
		if r.Fields&b != 0 {
			n++
		}
	}
	if r.Fields&(FieldVendor|FieldDevice) == FieldVendor|FieldDevice {
		n += 4
	}
	return n
}

// manifestFile is the TOML layout. Numbers are decoded as int64 so that
// an out-of-range value is refused here with its name, not truncated.
type manifestFile struct {
	Driver *struct {
		Name string   `toml:"name"`
		Path string   `toml:"path"`
		Args []string `toml:"args"`
	} `toml:"driver"`
	Match []struct {
		Vendor   *int64 `toml:"vendor"`
		Device   *int64 `toml:"device"`
		Class    *int64 `toml:"class"`
		Subclass *int64 `toml:"subclass"`
		ProgIF   *int64 `toml:"prog_if"`
	} `toml:"match"`
}

// ParseManifest parses the manifest data read from name. It refuses
// unknown keys (a misspelt key would otherwise silently widen a match),
// a missing driver name or path, and rules of a shape not listed at
// Manifest or with values out of range.
func ParseManifest(name string, data []byte) (*Manifest, error) {
	fail := func(format string, args ...any) (*Manifest, error) {
		return nil, fmt.Errorf("pci: manifest %s: %s", name, fmt.Sprintf(format, args...))
	}
	var mf manifestFile
	md, err := toml.Decode(string(data), &mf)
	if err != nil {
		return nil, fmt.Errorf("pci: manifest %s: %w", name, err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		keys := make([]string, len(u))
		for i, k := range u {
			keys[i] = k.String()
		}
		return fail("unknown keys: %s", strings.Join(keys, ", "))
	}
	if mf.Driver == nil {
		return fail("no [driver] table")
	}
	m := &Manifest{Name: name, Driver: Driver{Name: mf.Driver.Name, Path: mf.Driver.Path, Args: mf.Driver.Args}}
	if strings.TrimSpace(m.Driver.Name) == "" {
		return fail("driver name missing")
	}
	if !strings.HasPrefix(m.Driver.Path, "/") {
		return fail("driver path %q is not absolute", m.Driver.Path)
	}
	if len(mf.Match) == 0 {
		return fail("no [[match]] rules")
	}
	for i, fm := range mf.Match {
		var r Rule
		var err error
		set := func(v *int64, field Fields, key string, max int64) int64 {
			if v == nil || err != nil {
				return 0
			}
			if *v < 0 || *v > max {
				err = fmt.Errorf("%s = %d is outside 0-%#x", key, *v, max)
				return 0
			}
			r.Fields |= field
			return *v
		}
		r.Vendor = uint16(set(fm.Vendor, FieldVendor, "vendor", 0xfffe)) // 0xffff: no function
		r.Device = uint16(set(fm.Device, FieldDevice, "device", 0xffff))
		r.Class = uint8(set(fm.Class, FieldClass, "class", 0xff))
		r.Subclass = uint8(set(fm.Subclass, FieldSubclass, "subclass", 0xff))
		r.ProgIF = uint8(set(fm.ProgIF, FieldProgIF, "prog_if", 0xff))
		if err == nil {
			err = checkShape(r.Fields)
		}
		if err != nil {
			return fail("match %d: %v", i+1, err)
		}
		m.Match = append(m.Match, r)
	}
	return m, nil
}

func checkShape(f Fields) error {
	switch {
	case f == 0:
		return fmt.Errorf("no fields: it would match every function")
	case f&FieldVendor != 0 && f&FieldDevice == 0:
		return fmt.Errorf("vendor without device")
	case f&FieldDevice != 0 && f&FieldVendor == 0:
		return fmt.Errorf("device without vendor")
	case f&FieldSubclass != 0 && f&FieldClass == 0:
		return fmt.Errorf("subclass without class")
	case f&FieldProgIF != 0 && f&FieldSubclass == 0:
		return fmt.Errorf("prog_if without subclass")
	}
	return nil
}

// Match returns the manifest whose rule matching f is the most specific
// (Rule.Specificity); among equally specific ones, the manifest with the
// least Name, then the earliest in ms. The answer depends only on ms and
// f, never on map order or timing.
func Match(ms []*Manifest, f *Function) (*Manifest, bool) {
	var best *Manifest
	bestSpec := 0
	for _, m := range ms {
		if m == nil {
			continue
		}
		for _, r := range m.Match {
			if !r.Matches(f) {
				continue
			}
			s := r.Specificity()
			if best == nil || s > bestSpec || (s == bestSpec && m.Name < best.Name) {
				best, bestSpec = m, s
			}
		}
	}
	return best, best != nil
}
