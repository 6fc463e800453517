package caps

import "valence.dev/ipc"

// FastForward sets the generation that free slot index of t will give its
// next capability, so that tests reach generation wrap without 2^32
// closes. It refuses (false) a live, retired or out-of-range slot and a
// generation below the slot's current one, which would reissue values.
func FastForward(t *Table, index, gen uint32) bool {
	t.sys.mu.Lock()
	defer t.sys.mu.Unlock()
	if index == 0 || int(index) > len(t.slots) {
		return false
	}
	s := &t.slots[index-1]
	if s.node != nil || s.retired || gen < s.gen {
		return false
	}
	s.gen = gen
	return true
}

// MakeHandle exposes the handle encoding to the external tests.
func MakeHandle(index, gen uint32) ipc.Handle { return makeHandle(index, gen) }
