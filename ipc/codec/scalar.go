package codec

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"

	"valence.dev/ipc"
)

// The codecs of types that hold no other types: numbers, strings, byte
// strings and handles.

func encBool(e *encoder, v reflect.Value) error {
	if v.Bool() {
		return e.byte(1)
	}
	return e.byte(0)
}

func decBool(d *decoder, v reflect.Value) error {
	b, err := d.flag()
	if err != nil {
		return err
	}
	v.SetBool(b)
	return nil
}

// putUint writes the low size bytes of x, little endian.
func putUint(b []byte, x uint64) {
	switch len(b) {
	case 1:
		b[0] = byte(x)
	case 2:
		binary.LittleEndian.PutUint16(b, uint16(x))
	case 4:
		binary.LittleEndian.PutUint32(b, uint32(x))
	default:
		binary.LittleEndian.PutUint64(b, x)
	}
}

// getUint reads a little-endian number of len(b) bytes.
func getUint(b []byte) uint64 {
	switch len(b) {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(b))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b))
	default:
		return binary.LittleEndian.Uint64(b)
	}
}

// intCodec returns the codec of a signed integer encoded in size bytes.
func intCodec(size int) (func(*encoder, reflect.Value) error, func(*decoder, reflect.Value) error) {
	shift := 64 - 8*size // to sign-extend size bytes into an int64
	enc := func(e *encoder, v reflect.Value) error {
		b, err := e.next(size)
		if err != nil {
			return err
		}
		putUint(b, uint64(v.Int()))
		return nil
	}
	dec := func(d *decoder, v reflect.Value) error {
		b, err := d.next(size)
		if err != nil {
			return err
		}
		x := int64(getUint(b)<<shift) >> shift
		if v.OverflowInt(x) {
			return fmt.Errorf("%w: %d overflows %v", ErrMalformed, x, v.Type())
		}
		v.SetInt(x)
		return nil
	}
	return enc, dec
}

// uintCodec returns the codec of an unsigned integer encoded in size
// bytes.
func uintCodec(size int) (func(*encoder, reflect.Value) error, func(*decoder, reflect.Value) error) {
	enc := func(e *encoder, v reflect.Value) error {
		b, err := e.next(size)
		if err != nil {
			return err
		}
		putUint(b, v.Uint())
		return nil
	}
	dec := func(d *decoder, v reflect.Value) error {
		b, err := d.next(size)
		if err != nil {
			return err
		}
		x := getUint(b)
		if v.OverflowUint(x) {
			return fmt.Errorf("%w: %d overflows %v", ErrMalformed, x, v.Type())
		}
		v.SetUint(x)
		return nil
	}
	return enc, dec
}

func encFloat64(e *encoder, v reflect.Value) error {
	b, err := e.next(8)
	if err != nil {
		return err
	}
	binary.LittleEndian.PutUint64(b, math.Float64bits(v.Float()))
	return nil
}

func decFloat64(d *decoder, v reflect.Value) error {
	b, err := d.next(8)
	if err != nil {
		return err
	}
	v.SetFloat(math.Float64frombits(binary.LittleEndian.Uint64(b)))
	return nil
}

func encFloat32(e *encoder, v reflect.Value) error {
	b, err := e.next(4)
	if err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(b, math.Float32bits(float32(v.Float())))
	return nil
}

// decFloat32 goes through reflect's float64 interface, which quiets a
// signalling NaN on the way; such bits could not be encoded again, so
// they are rejected to keep the encoding canonical.
func decFloat32(d *decoder, v reflect.Value) error {
	b, err := d.next(4)
	if err != nil {
		return err
	}
	bits := binary.LittleEndian.Uint32(b)
	v.SetFloat(float64(math.Float32frombits(bits)))
	if math.Float32bits(float32(v.Float())) != bits {
		return fmt.Errorf("%w: float32 bits %#x do not survive a round trip", ErrMalformed, bits)
	}
	return nil
}

func encString(e *encoder, v reflect.Value) error {
	s := v.String()
	if err := e.uvarint(uint64(len(s))); err != nil {
		return err
	}
	b, err := e.next(len(s))
	if err != nil {
		return err
	}
	copy(b, s)
	return nil
}

func decString(d *decoder, v reflect.Value) error {
	n, err := d.count(1)
	if err != nil {
		return err
	}
	b, _ := d.next(n) // count checked n bytes remain
	v.SetString(string(b))
	return nil
}

// encBytes and decBytes carry a slice whose elements are bytes ([]byte or
// a slice of some named byte type) as one copy.
func encBytes(e *encoder, v reflect.Value) error {
	s := v.Bytes()
	if err := e.uvarint(uint64(len(s))); err != nil {
		return err
	}
	b, err := e.next(len(s))
	if err != nil {
		return err
	}
	copy(b, s)
	return nil
}

func decBytes(d *decoder, v reflect.Value) error {
	n, err := d.count(1)
	if err != nil {
		return err
	}
	if n == 0 {
		return nil // canonical empty slice is nil
	}
	b, _ := d.next(n)
	s := reflect.MakeSlice(v.Type(), n, n)
	copy(s.Bytes(), b)
	v.Set(s)
	return nil
}

// encByteArray and decByteArray carry an array of bytes as one copy when
// it is addressable, which values from Marshal and Unmarshal always are.
func encByteArray(e *encoder, v reflect.Value) error {
	b, err := e.next(v.Len())
	if err != nil {
		return err
	}
	if v.CanAddr() {
		copy(b, v.Bytes())
		return nil
	}
	for i := range b {
		b[i] = byte(v.Index(i).Uint())
	}
	return nil
}

func decByteArray(d *decoder, v reflect.Value) error {
	b, err := d.next(v.Len())
	if err != nil {
		return err
	}
	copy(v.Bytes(), b)
	return nil
}

func encHandle(e *encoder, v reflect.Value) error {
	h := ipc.Handle(v.Uint())
	if h == 0 {
		return e.byte(0)
	}
	i, err := e.handle(h)
	if err != nil {
		return err
	}
	return e.byte(i)
}

func decHandle(d *decoder, v reflect.Value) error {
	i, err := d.byte()
	if err != nil || i == 0 {
		return err
	}
	h, err := d.handle(i)
	if err != nil {
		return err
	}
	v.SetUint(uint64(h))
	return nil
}
