package main

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name string
		text string
		want config
		bad  bool
	}{
		{"empty: DHCP", "", config{Hostname: "valence"}, false},
		{"hostname", `hostname = "box"`, config{Hostname: "box"}, false},
		{"static", "address = \"10.0.2.15/24\"\ngateway = \"10.0.2.2\"\ndns = [\"10.0.2.3\", \"1.1.1.1\"]\n", config{
			Static: true, Addr: netip.MustParsePrefix("10.0.2.15/24"), Gateway: netip.MustParseAddr("10.0.2.2"),
			DNS: []netip.Addr{netip.MustParseAddr("10.0.2.3"), netip.MustParseAddr("1.1.1.1")}, Hostname: "valence"}, false},
		{"no prefix", `address = "10.0.2.15"`, config{}, true},
		{"IPv6", `address = "fe80::1/64"`, config{}, true},
		{"bad gateway", "address = \"10.0.2.15/24\"\ngateway = \"x\"", config{}, true},
		{"dns without address", `dns = ["10.0.2.3"]`, config{}, true},
		{"unknown key", `adress = "10.0.2.15/24"`, config{}, true},
		{"not TOML", `address = `, config{}, true},
	}
	for _, tc := range tests {
		got, err := parseConfig(tc.text)
		if (err != nil) != tc.bad {
			t.Errorf("%s: error %v, want error %v", tc.name, err, tc.bad)
			continue
		}
		if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); !tc.bad && diff != "" {
			t.Errorf("%s: (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestResolvConf(t *testing.T) {
	got := resolvConf([]netip.Addr{netip.MustParseAddr("10.0.2.3")})
	if want := "# written by netd\nnameserver 10.0.2.3\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
