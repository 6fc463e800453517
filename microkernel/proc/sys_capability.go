package proc

import (
	"encoding/binary"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

// Linux capabilities (capabilities(7)). Every process is root, and root
// starts with every capability; a program may give some up with
// capset(2), and the kernel checks the effective set where Linux does
// for the privileges Valence has: binding a TCP or UDP port below 1024
// needs CAP_NET_BIND_SERVICE, and a raw socket (SOCK_RAW) CAP_NET_RAW
// (the network server sees one client, the kernel, so the kernel checks
// the first and tells it the second). fork copies the sets; execve
// gives a root process every capability again, as Linux does for root
// (no securebits, no file capabilities), so a program that must not
// bind low ports drops the capability itself after exec. The bounding
// set is every capability and cannot be changed (prctl is refused).

// capSets are a process's capability sets, one bit per linux.Capability.
type capSets struct {
	effective, permitted, inheritable uint64
}

// allCaps are the capabilities Linux defines.
const allCaps = uint64(1)<<(linux.CAP_LAST_CAP+1) - 1

// rootCaps are a root process's sets after execve.
var rootCaps = capSets{effective: allCaps, permitted: allCaps}

// hasCap reports whether p's effective set holds cp.
func (p *Process) hasCap(cp linux.Capability) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.caps.effective&(1<<uint(cp)) != 0
}

// capHeader reads capget/capset's header: the version's number of
// 32-bit data words (1 for version 1, 2 for versions 2 and 3) and the
// pid. An unknown version is EINVAL, with the preferred version written
// back, as Linux does so a program can ask which it should use.
func capHeader(c *call, addr uint64) (words int, pid int32, e errno.Errno) {
	var h [8]byte
	if err := c.as().CopyIn(addr, h[:]); err != nil {
		return 0, 0, errno.EFAULT
	}
	version := binary.LittleEndian.Uint32(h[0:])
	pid = int32(binary.LittleEndian.Uint32(h[4:]))
	switch version {
	case linux.LINUX_CAPABILITY_VERSION_1:
		words = 1
	case linux.LINUX_CAPABILITY_VERSION_2, linux.LINUX_CAPABILITY_VERSION_3:
		words = 2
	default:
		binary.LittleEndian.PutUint32(h[0:], linux.HighestCapabilityVersion)
		if err := c.as().CopyOut(addr, h[:4]); err != nil {
			return 0, 0, errno.EFAULT
		}
		return 0, 0, errno.EINVAL
	}
	if pid < 0 {
		return 0, 0, errno.EINVAL
	}
	return words, pid, 0
}

// sysCapget implements capget(2): the sets of the caller (pid 0) or of
// any process.
func sysCapget(c *call) result {
	words, pid, e := capHeader(c, c.arg(0))
	if e != 0 {
		return fail(e)
	}
	target := c.p
	if pid != 0 && pid != int32(c.p.PID) {
		t, found := Lookup(int(pid))
		if !found || t == nil {
			return fail(errno.ESRCH)
		}
		target = t
	}
	if c.arg(1) == 0 {
		return ok0() // a probe of the version
	}
	target.mu.Lock()
	s := target.caps
	target.mu.Unlock()
	b := make([]byte, 12*words)
	for i := range words {
		binary.LittleEndian.PutUint32(b[12*i:], uint32(s.effective>>(32*i)))
		binary.LittleEndian.PutUint32(b[12*i+4:], uint32(s.permitted>>(32*i)))
		binary.LittleEndian.PutUint32(b[12*i+8:], uint32(s.inheritable>>(32*i)))
	}
	if err := c.as().CopyOut(c.arg(1), b); err != nil {
		return fail(errno.EFAULT)
	}
	return ok0()
}

// sysCapset implements capset(2) for the caller: permitted may only
// shrink, effective must stay within the new permitted, inheritable
// within the old inheritable and permitted (the caller may have given
// up CAP_SETPCAP); anything else is EPERM and changes nothing.
func sysCapset(c *call) result {
	words, pid, e := capHeader(c, c.arg(0))
	if e != 0 {
		return fail(e)
	}
	if pid != 0 && pid != int32(c.p.PID) {
		return fail(errno.EPERM)
	}
	b := make([]byte, 12*words)
	if err := c.as().CopyIn(c.arg(1), b); err != nil {
		return fail(errno.EFAULT)
	}
	var n capSets
	for i := range words {
		n.effective |= uint64(binary.LittleEndian.Uint32(b[12*i:])) << (32 * i)
		n.permitted |= uint64(binary.LittleEndian.Uint32(b[12*i+4:])) << (32 * i)
		n.inheritable |= uint64(binary.LittleEndian.Uint32(b[12*i+8:])) << (32 * i)
	}
	n.effective &= allCaps
	n.permitted &= allCaps
	n.inheritable &= allCaps
	p := c.p
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.caps
	if words == 1 {
		// Version 1 speaks for the low 32 capabilities only; the others
		// keep their state.
		const high = allCaps &^ 0xffffffff
		n.effective |= old.effective & high
		n.permitted |= old.permitted & high
		n.inheritable |= old.inheritable & high
	}
	inhLimit := old.inheritable | old.permitted
	if old.effective&(1<<linux.CAP_SETPCAP) != 0 {
		inhLimit = allCaps // the bounding set
	}
	if n.permitted&^old.permitted != 0 || n.effective&^n.permitted != 0 || n.inheritable&^inhLimit != 0 {
		return fail(errno.EPERM)
	}
	p.caps = n
	return ok0()
}
