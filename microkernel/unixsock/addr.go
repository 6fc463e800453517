package unixsock

import (
	"encoding/binary"
	"fmt"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

// Addr is an AF_UNIX address as unix(7) describes it: "" is unnamed, a
// name that starts with a NUL byte is abstract (every byte after it
// counts, NULs included), anything else is a pathname.
type Addr string

// Abstract reports whether a is in the abstract namespace.
func (a Addr) Abstract() bool { return len(a) > 0 && a[0] == 0 }

// Path reports whether a is a pathname.
func (a Addr) Path() bool { return len(a) > 0 && a[0] != 0 }

// familyLen is offsetof(struct sockaddr_un, sun_path): the address
// family before the name.
const familyLen = 2

// MaxAddrLen is sizeof(struct sockaddr_un).
const MaxAddrLen = familyLen + linux.UnixPathMax

// DecodeAddr reads a sockaddr_un of len(b) bytes as bind(2), connect(2)
// and sendto(2) pass it (Linux's unix_validate_addr and unix_mkname):
// EINVAL if it is shorter than the family or longer than a sockaddr_un,
// or of another family. Exactly the family, with no name, is the empty
// Addr: bind autobinds it. A pathname ends at its first NUL byte, as
// the C string it is; an abstract name takes all the bytes given.
func DecodeAddr(b []byte) (Addr, errno.Errno) {
	if len(b) < familyLen || len(b) > MaxAddrLen {
		return "", errno.EINVAL
	}
	if binary.LittleEndian.Uint16(b) != linux.AF_UNIX {
		return "", errno.EINVAL
	}
	name := b[familyLen:]
	if len(name) == 0 || name[0] == 0 {
		return Addr(name), 0
	}
	for i, c := range name {
		if c == 0 {
			name = name[:i]
			break
		}
	}
	return Addr(name), 0
}

// Encode returns the sockaddr_un of a with the length Linux reports for
// it (getsockname, getpeername, accept, recvfrom): the family alone for
// an unnamed socket, the family and every byte of an abstract name, the
// family, the path and its terminating NUL for a pathname.
func (a Addr) Encode() []byte {
	b := binary.LittleEndian.AppendUint16(make([]byte, 0, MaxAddrLen+1), linux.AF_UNIX)
	b = append(b, a...)
	if a.Path() {
		b = append(b, 0)
	}
	return b
}

// autobindName is the abstract name Linux's unix_autobind picks: a NUL
// and five hex digits.
func autobindName(n uint32) Addr {
	return Addr(fmt.Sprintf("\x00%05x", n&0xfffff))
}
