package netlink

import (
	"encoding/binary"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

// SetOpt implements setsockopt(2) on s.
//
// At SOL_NETLINK, as Linux's netlink_setsockopt (an int value; shorter
// is taken as 0): NETLINK_EXT_ACK (errors explained in
// NLMSGERR_ATTR_MSG), NETLINK_GET_STRICT_CHK (dump headers checked,
// addresses selected by index), NETLINK_CAP_ACK (failed requests not
// echoed) and NETLINK_NO_ENOBUFS (dropped answers not reported) act;
// NETLINK_BROADCAST_ERROR is accepted and has nothing to act on (nothing
// is broadcast); NETLINK_ADD_MEMBERSHIP is EPERM (no notifications are
// sent: see doc.go), NETLINK_DROP_MEMBERSHIP of a group never joined is
// fine; others are ENOPROTOOPT.
//
// At SOL_SOCKET: SO_RCVBUF and SO_SNDBUF (and their FORCE forms, which
// root may use; held to the same bound here), doubled and bounded as
// Linux does; generic options with nothing to act on (SO_REUSEADDR,
// SO_KEEPALIVE, timeouts, ...) are accepted and ignored; others,
// SO_PASSCRED among them (no credentials are attached to answers), are
// ENOPROTOOPT. Other levels are ENOPROTOOPT, as Linux's netlink
// says for them.
func (s *Socket) SetOpt(level, name int32, v []byte) errno.Errno {
	switch level {
	case linux.SOL_NETLINK:
		return s.setNetlinkOpt(name, v)
	case linux.SOL_SOCKET:
	default:
		return errno.ENOPROTOOPT
	}
	switch name {
	case linux.SO_REUSEADDR, linux.SO_KEEPALIVE, linux.SO_BROADCAST, linux.SO_LINGER,
		linux.SO_RCVTIMEO, linux.SO_SNDTIMEO, linux.SO_PRIORITY, linux.SO_RCVLOWAT,
		linux.SO_REUSEPORT, linux.SO_OOBINLINE, linux.SO_NO_CHECK:
		if len(v) < 4 && name != linux.SO_LINGER {
			return errno.EINVAL
		}
		return 0
	case linux.SO_SNDBUF, linux.SO_RCVBUF, linux.SO_SNDBUFFORCE, linux.SO_RCVBUFFORCE:
	default:
		return errno.ENOPROTOOPT
	}
	if len(v) < 4 {
		return errno.EINVAL
	}
	size := min(max(int(int32(binary.NativeEndian.Uint32(v)))*2, minBuf), maxBuf)
	s.mu.Lock()
	defer s.mu.Unlock()
	if name == linux.SO_SNDBUF || name == linux.SO_SNDBUFFORCE {
		s.sndbuf = size
	} else {
		s.rcvbuf = size
	}
	return 0
}

func (s *Socket) setNetlinkOpt(name int32, v []byte) errno.Errno {
	val := uint32(0)
	if len(v) >= 4 {
		val = binary.NativeEndian.Uint32(v)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch name {
	case linux.NETLINK_EXT_ACK:
		s.opts.extAck = val != 0
	case netlinkGetStrictChk:
		s.opts.strict = val != 0
	case linux.NETLINK_CAP_ACK:
		s.opts.capAck = val != 0
	case linux.NETLINK_NO_ENOBUFS:
		s.noNoBufs = val != 0
	case linux.NETLINK_BROADCAST_ERROR:
	case linux.NETLINK_ADD_MEMBERSHIP, linux.NETLINK_DROP_MEMBERSHIP:
		if val == 0 || val > rtnlGroups {
			return errno.EINVAL
		}
		if name == linux.NETLINK_ADD_MEMBERSHIP {
			return errno.EPERM
		}
	default:
		return errno.ENOPROTOOPT
	}
	return 0
}

// rtnlGroups is how many multicast groups NETLINK_ROUTE has
// (RTNLGRP_MAX in include/uapi/linux/rtnetlink.h, Linux 6).
const rtnlGroups = 37

// GetOpt implements getsockopt(2) on s, returning the whole value (the
// caller cuts it to the room given): the SOL_SOCKET options SO_TYPE,
// SO_DOMAIN, SO_PROTOCOL, SO_ERROR (the pending error, then cleared),
// SO_RCVBUF, SO_SNDBUF and the accepted ones as 0; the SOL_NETLINK flags
// SetOpt takes, and NETLINK_LIST_MEMBERSHIPS (no groups). Others are
// ENOPROTOOPT.
func (s *Socket) GetOpt(level, name int32) ([]byte, errno.Errno) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var val int32
	switch level {
	case linux.SOL_SOCKET:
		switch name {
		case linux.SO_TYPE:
			val = int32(s.cfg.Type)
		case linux.SO_DOMAIN:
			val = linux.AF_NETLINK
		case linux.SO_PROTOCOL:
			val = linux.NETLINK_ROUTE
		case linux.SO_ERROR:
			val = int32(s.err)
			s.err = 0
		case linux.SO_RCVBUF:
			val = int32(s.rcvbuf)
		case linux.SO_SNDBUF:
			val = int32(s.sndbuf)
		case linux.SO_REUSEADDR, linux.SO_KEEPALIVE, linux.SO_BROADCAST, linux.SO_ACCEPTCONN:
			val = 0
		default:
			return nil, errno.ENOPROTOOPT
		}
	case linux.SOL_NETLINK:
		switch name {
		case linux.NETLINK_EXT_ACK:
			val = boolInt(s.opts.extAck)
		case netlinkGetStrictChk:
			val = boolInt(s.opts.strict)
		case linux.NETLINK_CAP_ACK:
			val = boolInt(s.opts.capAck)
		case linux.NETLINK_NO_ENOBUFS:
			val = boolInt(s.noNoBufs)
		case linux.NETLINK_BROADCAST_ERROR, linux.NETLINK_PKTINFO, linux.NETLINK_LISTEN_ALL_NSID:
			val = 0
		case linux.NETLINK_LIST_MEMBERSHIPS:
			return make([]byte, 8), 0 // a bitmap of RTNLGRP_MAX bits, none set
		default:
			return nil, errno.ENOPROTOOPT
		}
	default:
		return nil, errno.ENOPROTOOPT
	}
	return binary.NativeEndian.AppendUint32(nil, uint32(val)), 0
}

func boolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}
