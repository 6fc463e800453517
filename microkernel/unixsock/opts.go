package unixsock

import (
	"encoding/binary"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

// overflowID is the user and group Linux reports for credentials it
// does not have (an unconnected socket's SO_PEERCRED).
const overflowID = 65534

// SetOpt implements setsockopt(2) on s. At SOL_SOCKET: SO_SNDBUF and
// SO_RCVBUF (doubled and bounded as Linux does), SO_PASSCRED; generic
// options with nothing to act on here (SO_REUSEADDR, SO_KEEPALIVE,
// SO_BROADCAST, SO_LINGER, timeouts, priorities) are accepted and
// ignored; read-only ones and unknown ones are ENOPROTOOPT. Other levels
// are EOPNOTSUPP: unix sockets have none.
func (s *Socket) SetOpt(level, name int32, v []byte) errno.Errno {
	if level != linux.SOL_SOCKET {
		return errno.EOPNOTSUPP
	}
	switch name {
	case linux.SO_REUSEADDR, linux.SO_KEEPALIVE, linux.SO_BROADCAST, linux.SO_LINGER,
		linux.SO_RCVTIMEO, linux.SO_SNDTIMEO, linux.SO_PRIORITY, linux.SO_RCVLOWAT,
		linux.SO_REUSEPORT, linux.SO_OOBINLINE, linux.SO_NO_CHECK:
		if len(v) < 4 && name != linux.SO_LINGER {
			return errno.EINVAL
		}
		return 0
	case linux.SO_SNDBUF, linux.SO_RCVBUF, linux.SO_PASSCRED:
	default:
		return errno.ENOPROTOOPT
	}
	if len(v) < 4 {
		return errno.EINVAL
	}
	val := int32(binary.LittleEndian.Uint32(v))
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	switch name {
	case linux.SO_SNDBUF:
		s.sndbuf = bufSize(val)
	case linux.SO_RCVBUF:
		s.rcvbuf = bufSize(val)
	case linux.SO_PASSCRED:
		s.passcred = val != 0
	}
	if name == linux.SO_SNDBUF {
		defer s.ev.Signal() // a bigger buffer may let a writer go on
	}
	return 0
}

// bufSize is what SO_SNDBUF and SO_RCVBUF make of val: doubled, within
// [minBuf, maxBuf].
func bufSize(val int32) int {
	return min(max(int(val)*2, minBuf), maxBuf)
}

// GetOpt implements getsockopt(2) on s, returning the whole value (the
// caller cuts it to the room given).
func (s *Socket) GetOpt(level, name int32) ([]byte, errno.Errno) {
	if level != linux.SOL_SOCKET {
		return nil, errno.EOPNOTSUPP
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	var val int32
	switch name {
	case linux.SO_TYPE:
		val = int32(s.typ)
	case linux.SO_DOMAIN:
		val = linux.AF_UNIX
	case linux.SO_PROTOCOL:
		val = 0
	case linux.SO_ERROR:
		val = int32(s.err)
		s.err = 0
	case linux.SO_ACCEPTCONN:
		val = boolInt(s.state == listening)
	case linux.SO_SNDBUF:
		val = int32(s.sndbuf)
	case linux.SO_RCVBUF:
		val = int32(s.rcvbuf)
	case linux.SO_PASSCRED:
		val = boolInt(s.passcred)
	case linux.SO_REUSEADDR, linux.SO_KEEPALIVE, linux.SO_BROADCAST:
		val = 0
	case linux.SO_PEERCRED:
		cr := linux.ControlMessageCredentials{PID: 0, UID: overflowID, GID: overflowID}
		if s.hasPeer {
			cr = linux.ControlMessageCredentials{PID: s.peerCred.PID, UID: s.peerCred.UID, GID: s.peerCred.GID}
		}
		b := make([]byte, linux.SizeOfControlMessageCredentials)
		cr.MarshalBytes(b)
		return b, 0
	default:
		return nil, errno.ENOPROTOOPT
	}
	return binary.LittleEndian.AppendUint32(nil, uint32(val)), 0
}

func boolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}
