package tcp

// Seq is a TCP sequence number. Comparisons are modulo 2^32 (RFC 9293
// section 3.4): a is before b if the signed distance from a to b is
// positive, which holds as long as the two are within 2^31 of each other.
type Seq uint32

// LessThan reports whether s comes before t.
func (s Seq) LessThan(t Seq) bool { return int32(s-t) < 0 }

// LessEq reports whether s comes before t or equals it.
func (s Seq) LessEq(t Seq) bool { return int32(s-t) <= 0 }

// Add returns s advanced by n.
func (s Seq) Add(n int) Seq { return s + Seq(uint32(n)) }

// Sub returns the distance from t to s (s - t) as an int.
func (s Seq) Sub(t Seq) int { return int(int32(s - t)) }

// InWindow reports whether s lies in [start, start+size).
func (s Seq) InWindow(start Seq, size int) bool {
	return start.LessEq(s) && s.LessThan(start.Add(size))
}

func maxSeq(a, b Seq) Seq {
	if a.LessThan(b) {
		return b
	}
	return a
}
