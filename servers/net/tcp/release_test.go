package tcp

import "testing"

// TestReleasedBuffers: the empty buffers of a connection in TIME-WAIT
// answer every call a connection there can still get without a fault.
func TestReleasedBuffers(t *testing.T) {
	var r recvBuffer
	var s ring
	if r.Insert(0, []byte("late")) != 0 || r.Read(make([]byte, 8)) != 0 || r.Free() != 0 || r.Len() != 0 {
		t.Error("a released receive buffer took or gave data")
	}
	if s.Append([]byte("more")) != 0 || s.Free() != 0 {
		t.Error("a released send buffer took data")
	}
	s.Discard(0)
	if a, b := s.Peek(0, 0); a != nil || b != nil {
		t.Error("Peek of nothing returned data")
	}
}
