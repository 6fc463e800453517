package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"strings"

	"github.com/BurntSushi/toml"
)

// config is how netd configures the interface: DHCP unless /etc/net.toml
// gives an address.
//
//	# /etc/net.toml: a static configuration (without it, DHCP)
//	address  = "10.0.2.15/24"
//	gateway  = "10.0.2.2"
//	dns      = ["10.0.2.3"]
//
//	# or DHCP, with a host name to send
//	hostname = "valence"
type config struct {
	Static   bool
	Addr     netip.Prefix
	Gateway  netip.Addr
	DNS      []netip.Addr
	Hostname string
}

// file is /etc/net.toml as written.
type file struct {
	Address  string   `toml:"address"`
	Gateway  string   `toml:"gateway"`
	DNS      []string `toml:"dns"`
	Hostname string   `toml:"hostname"`
}

// loadConfig reads path; a missing file means DHCP.
func loadConfig(path string) (config, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return config{Hostname: "valence"}, nil
	}
	if err != nil {
		return config{}, err
	}
	return parseConfig(string(b))
}

// parseConfig checks the file: unknown keys, addresses that do not parse,
// IPv6, and a gateway or DNS servers without an address are errors.
func parseConfig(text string) (config, error) {
	var f file
	md, err := toml.Decode(text, &f)
	if err != nil {
		return config{}, err
	}
	if un := md.Undecoded(); len(un) > 0 {
		keys := make([]string, len(un))
		for i, k := range un {
			keys[i] = k.String()
		}
		return config{}, fmt.Errorf("unknown keys %s", strings.Join(keys, ", "))
	}
	c := config{Hostname: f.Hostname}
	if c.Hostname == "" {
		c.Hostname = "valence"
	}
	if f.Address == "" {
		if f.Gateway != "" || len(f.DNS) > 0 {
			return config{}, errors.New("gateway and dns need an address (or use DHCP for all three)")
		}
		return c, nil
	}
	c.Static = true
	if c.Addr, err = netip.ParsePrefix(f.Address); err != nil || !c.Addr.Addr().Is4() {
		return config{}, fmt.Errorf("address %q: want an IPv4 address with its prefix length, as 10.0.2.15/24", f.Address)
	}
	if f.Gateway != "" {
		if c.Gateway, err = netip.ParseAddr(f.Gateway); err != nil || !c.Gateway.Is4() {
			return config{}, fmt.Errorf("gateway %q: want an IPv4 address", f.Gateway)
		}
	}
	for _, d := range f.DNS {
		a, err := netip.ParseAddr(d)
		if err != nil || !a.Is4() {
			return config{}, fmt.Errorf("dns %q: want an IPv4 address", d)
		}
		c.DNS = append(c.DNS, a)
	}
	return c, nil
}

// resolvConf is /etc/resolv.conf for the DNS servers.
func resolvConf(dns []netip.Addr) string {
	var b strings.Builder
	b.WriteString("# written by netd\n")
	for _, a := range dns {
		fmt.Fprintf(&b, "nameserver %v\n", a)
	}
	return b.String()
}
