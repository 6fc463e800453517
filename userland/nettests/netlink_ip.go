package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
)

// testNetlinkIP runs u-root's ip (/bin/ip, github.com/u-root/u-root
// cmds/core/ip, built unmodified: it reads the kernel's tables through
// vishvananda/netlink), if the image has it, and checks what `ip link`, `ip addr`, `ip route`
// and `ip route get` print against net's view of the interfaces, and
// that `ip addr add` is refused: the network is netd's configuration.
func testNetlinkIP() error {
	if _, err := os.Stat("/bin/ip"); err != nil {
		return skipped("no /bin/ip")
	}
	ift, err := net.Interfaces()
	if err != nil {
		return err
	}
	var want struct{ link, addr, route []string }
	var nic *net.Interface
	for i, ifi := range ift {
		// u-root's ip, built with the vishvananda/netlink it pins, does
		// not print RUNNING (Go's net.Flags does, last): compare the
		// flags before it.
		flags := strings.ReplaceAll(strings.ToUpper((ifi.Flags &^ net.FlagRunning).String()), "|", ",")
		want.link = append(want.link, fmt.Sprintf("%d: %s: <%s", ifi.Index, ifi.Name, flags),
			fmt.Sprintf("> mtu %d state ", ifi.MTU))
		if ifi.HardwareAddr != nil {
			want.link = append(want.link, "link/ether "+ifi.HardwareAddr.String())
		}
		addrs, err := ifi.Addrs()
		if err != nil {
			return err
		}
		for _, a := range addrs {
			ipn := a.(*net.IPNet)
			if ipn.IP.To4() == nil {
				continue
			}
			scope := "global"
			if ipn.IP.IsLoopback() {
				scope = "host"
			}
			want.addr = append(want.addr, fmt.Sprintf("inet %s brd ", ipn), fmt.Sprintf(" scope %s %s", scope, ifi.Name))
			if ifi.Flags&net.FlagLoopback == 0 {
				net := &net.IPNet{IP: ipn.IP.Mask(ipn.Mask), Mask: ipn.Mask}
				want.route = append(want.route, fmt.Sprintf("%s dev %s proto kernel scope link src %s metric 0", net, ifi.Name, ipn.IP))
				nic = &ift[i]
			}
		}
	}
	checks := []struct {
		args []string
		want []string
	}{
		{[]string{"link"}, want.link},
		{[]string{"addr"}, append(want.link, want.addr...)},
		{[]string{"route"}, want.route},
	}
	if nic != nil {
		checks = append(checks, struct {
			args []string
			want []string
		}{[]string{"route", "get", "198.51.100.1"}, []string{"198.51.100.1/32 dev " + nic.Name + " "}})
	}
	for _, c := range checks {
		out, err := exec.Command("/bin/ip", c.args...).CombinedOutput()
		for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
			fmt.Printf("nettests: ip %s: %s\n", strings.Join(c.args, " "), l)
		}
		if err != nil {
			return fmt.Errorf("ip %s: %v", strings.Join(c.args, " "), err)
		}
		for _, w := range c.want {
			if !strings.Contains(string(out), w) {
				return fmt.Errorf("ip %s does not print %q", strings.Join(c.args, " "), w)
			}
		}
	}
	if nic != nil {
		out, err := exec.Command("/bin/ip", "addr", "add", "192.0.2.9/24", "dev", nic.Name).CombinedOutput()
		fmt.Printf("nettests: ip addr add: %s", out)
		if err == nil || !strings.Contains(string(out), "not supported") {
			return fmt.Errorf("ip addr add: %v, %q; want a failure saying it is not supported", err, out)
		}
	}
	return nil
}
