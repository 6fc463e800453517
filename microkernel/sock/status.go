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

// Status is netd's whole status: its interfaces, gateway and DNS servers
// from the first page, and every page's connections (what ip, netstat,
// /proc/net and NETLINK_ROUTE report). A netd that is gone is ENETDOWN.
func (n *Net) Status(c kfile.Caller) (sockproto.StatusReply, errno.Errno) {
	if n == nil || n.Dead() {
		return sockproto.StatusReply{}, errno.ENETDOWN
	}
	var all sockproto.StatusReply
	from := uint32(0)
	for page := 0; page < maxStatusPages; page++ {
		r, err := n.client(c).Status(context.Background(), from)
		if err != nil {
			if gone(err) {
				n.kill()
				return sockproto.StatusReply{}, errno.ENETDOWN
			}
			return sockproto.StatusReply{}, errnoOf(err)
		}
		if page == 0 {
			all.Interfaces, all.Gateway, all.DNS = r.Interfaces, r.Gateway, r.DNS
		}
		all.Conns = append(all.Conns, r.Conns...)
		if !r.More || len(r.Conns) == 0 {
			break
		}
		from += uint32(len(r.Conns))
	}
	return all, 0
}
