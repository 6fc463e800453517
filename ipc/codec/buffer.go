package codec

import (
	"encoding/binary"
	"fmt"

	"valence.dev/ipc"
)

// An encoder writes one value into a message's data and handle list.
type encoder struct {
	buf     *[ipc.MaxData]byte
	n       int // bytes of buf written
	handles [ipc.MaxHandles]ipc.Handle
	nh      int // handles collected
}

// next reserves the next k bytes, or fails if they would pass the end of
// the message: the check comes before any copy, so nothing is truncated.
func (e *encoder) next(k int) ([]byte, error) {
	if k > ipc.MaxData-e.n {
		return nil, fmt.Errorf("%w: %d more bytes after %d, limit %d", ErrTooBig, k, e.n, ipc.MaxData)
	}
	b := e.buf[e.n : e.n+k]
	e.n += k
	return b, nil
}

func (e *encoder) byte(x byte) error {
	b, err := e.next(1)
	if err != nil {
		return err
	}
	b[0] = x
	return nil
}

func (e *encoder) uvarint(x uint64) error {
	var tmp [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(tmp[:], x)
	b, err := e.next(n)
	if err != nil {
		return err
	}
	copy(b, tmp[:n])
	return nil
}

// handle collects h and returns its 1-based index in the header.
func (e *encoder) handle(h ipc.Handle) (byte, error) {
	if e.nh == ipc.MaxHandles {
		return 0, fmt.Errorf("%w: more than %d", ErrTooManyHandles, ipc.MaxHandles)
	}
	e.handles[e.nh] = h
	e.nh++
	return byte(e.nh), nil
}

// A decoder reads one value from a message. Nothing it is given is
// trusted.
type decoder struct {
	data    []byte // not yet read
	handles []ipc.Handle
	nh      int // handles taken
}

// next consumes the next k bytes.
func (d *decoder) next(k int) ([]byte, error) {
	if k > len(d.data) {
		return nil, fmt.Errorf("%w: %d bytes needed, %d remain", ErrMalformed, k, len(d.data))
	}
	b := d.data[:k]
	d.data = d.data[k:]
	return b, nil
}

func (d *decoder) byte() (byte, error) {
	if len(d.data) == 0 {
		return 0, fmt.Errorf("%w: 1 byte needed, 0 remain", ErrMalformed)
	}
	b := d.data[0]
	d.data = d.data[1:]
	return b, nil
}

// flag reads a byte that must be 0 or 1: a bool or a presence byte.
func (d *decoder) flag() (bool, error) {
	b, err := d.byte()
	if err != nil {
		return false, err
	}
	if b > 1 {
		return false, fmt.Errorf("%w: byte %#x where 0 or 1 belongs", ErrMalformed, b)
	}
	return b == 1, nil
}

// uvarint reads a minimally encoded uvarint: exactly what PutUvarint
// writes. binary.Uvarint also accepts padded forms such as 0x80 0x00,
// which would give one value two encodings.
func (d *decoder) uvarint() (uint64, error) {
	var x uint64
	for i := 0; i < binary.MaxVarintLen64; i++ {
		if i == len(d.data) {
			return 0, fmt.Errorf("%w: truncated uvarint", ErrMalformed)
		}
		b := d.data[i]
		if b < 0x80 {
			if i > 0 && b == 0 {
				return 0, fmt.Errorf("%w: uvarint not minimal", ErrMalformed)
			}
			if i == binary.MaxVarintLen64-1 && b > 1 {
				return 0, fmt.Errorf("%w: uvarint overflows 64 bits", ErrMalformed)
			}
			d.data = d.data[i+1:]
			return x | uint64(b)<<(7*i), nil
		}
		x |= uint64(b&0x7f) << (7 * i)
	}
	return 0, fmt.Errorf("%w: uvarint overflows 64 bits", ErrMalformed)
}

// count reads the length of a string or slice whose elements encode to at
// least min bytes each (min > 0), and checks that the remaining bytes can
// hold that many before anyone allocates for them.
func (d *decoder) count(min int) (int, error) {
	n, err := d.uvarint()
	if err != nil {
		return 0, err
	}
	if n > uint64(len(d.data)/min) {
		return 0, fmt.Errorf("%w: %d elements of at least %d bytes, %d bytes remain",
			ErrMalformed, n, min, len(d.data))
	}
	return int(n), nil
}

// handle takes the handle that an index byte names. Indexes must come in
// order 1, 2, ... so that each handle list has one encoding.
func (d *decoder) handle(index byte) (ipc.Handle, error) {
	if int(index) != d.nh+1 {
		return 0, fmt.Errorf("%w: handle index %d where %d belongs", ErrMalformed, index, d.nh+1)
	}
	if d.nh == len(d.handles) {
		return 0, fmt.Errorf("%w: handle index %d but %d handles sent", ErrMalformed, index, len(d.handles))
	}
	h := d.handles[d.nh]
	if h == 0 {
		return 0, fmt.Errorf("%w: zero handle in slot %d", ErrMalformed, d.nh)
	}
	d.nh++
	return h, nil
}
