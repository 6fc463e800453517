package sock

import (
	"context"

	"gvisor.dev/gvisor/pkg/abi/linux/errno"
	"valence.dev/microkernel/kfile"
	"valence.dev/servers/net/sockproto"
)

// maxStatusPages bounds how many StatusReply pages Status reads: a netd
// that always says More cannot keep the kernel asking for ever.
const maxStatusPages = 64

// Summary is netd's status without its sockets: its interfaces, gateway,
// DNS servers and counters (the first page only), for what needs no
// socket list (/proc/net/dev, route, snmp; the interface ioctls).
func (n *Net) Summary(c kfile.Caller) (sockproto.StatusReply, errno.Errno) {
	return n.status(c, 1)
}

// Status is netd's whole status: its interfaces, gateway, DNS servers
// and counters from the first page, and every page's connections (what
// ip, netstat, /proc/net and NETLINK_ROUTE report). A netd that is gone
// is ENETDOWN.
func (n *Net) Status(c kfile.Caller) (sockproto.StatusReply, errno.Errno) {
	return n.status(c, maxStatusPages)
}

// status reads up to pages pages of netd's status.
func (n *Net) status(c kfile.Caller, pages int) (sockproto.StatusReply, errno.Errno) {
	if n == nil || n.Dead() {
		return sockproto.StatusReply{}, errno.ENETDOWN
	}
	var all sockproto.StatusReply
	from := uint32(0)
	for page := 0; page < pages; page++ {
		r, err := n.client(c).Status(context.Background(), from)
		if err != nil {
			if gone(err) {
				n.kill()
				return sockproto.StatusReply{}, errno.ENETDOWN
			}
			return sockproto.StatusReply{}, errnoOf(err)
		}
		if page == 0 {
			all.Interfaces, all.Gateway, all.DNS, all.SNMP = r.Interfaces, r.Gateway, r.DNS, r.SNMP
		}
		all.Conns = append(all.Conns, r.Conns...)
		if !r.More || len(r.Conns) == 0 {
			break
		}
		from += uint32(len(r.Conns))
	}
	return all, 0
}
