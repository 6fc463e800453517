package procfs

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Values of /proc/net/unix (include/uapi/linux/net.h, linux/net.h).
const (
	ssUnconnected   = 1
	ssConnecting    = 2
	ssConnected     = 3
	soAcceptCon     = 1 << 16 // __SO_ACCEPTCON
	unixHeader      = "Num       RefCount Protocol Flags    Type St Inode Path\n"
	unixRefBase     = 2
	unixRefWithPeer = 3
)

// renderNetUnix renders /proc/net/unix as Linux's unix_seq_show: the
// kernel address (shown as zeros), the reference count, the protocol
// (0), the flags (__SO_ACCEPTCON for a listener), the type, the state
// (SS_CONNECTING for a connection not accepted yet, SS_CONNECTED with a
// peer, SS_UNCONNECTED otherwise), the inode and the bound name: a
// path, or "@" and an abstract name with its NUL bytes shown as "@". The
// reference count is derived: 2, and 3 with a peer (Linux's usual
// counts). Sockets are listed in inode order.
func renderNetUnix(n Networker) []byte {
	var b strings.Builder
	b.WriteString(unixHeader)
	socks := slices.Clone(n.UnixSockets())
	slices.SortStableFunc(socks, func(a, b UnixSocket) int { return cmp.Compare(a.Inode, b.Inode) })
	for _, s := range socks {
		flags, state, ref := 0, ssUnconnected, unixRefBase
		switch {
		case s.Listening:
			flags = soAcceptCon
		case s.Embryo:
			state, ref = ssConnecting, unixRefWithPeer
		case s.Connected:
			state, ref = ssConnected, unixRefWithPeer
		}
		fmt.Fprintf(&b, "%s: %08X %08X %08X %04X %02X %5d", nullPtr, ref, 0, flags, s.Type, state, s.Inode)
		if s.Name != "" {
			b.WriteByte(' ')
			name := s.Name
			if name[0] == 0 {
				b.WriteByte('@')
				name = name[1:]
			}
			b.WriteString(strings.ReplaceAll(name, "\x00", "@"))
		}
		b.WriteByte('\n')
	}
	return []byte(b.String())
}
