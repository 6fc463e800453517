package codec

import (
	"fmt"
	"reflect"
)

// Slices of integers are common in protocols (block numbers, offsets,
// sizes). numSliceCodec carries them in one pass over a single reserved
// span instead of one encode call per element; the bytes are the same as
// sliceCodec's.

// isInt reports whether k is a signed integer kind.
func isInt(k reflect.Kind) bool {
	switch k {
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		return true
	}
	return false
}

// isUint reports whether k is an unsigned integer kind.
func isUint(k reflect.Kind) bool {
	switch k {
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
		return true
	}
	return false
}

// numSliceCodec returns the codec of a slice of integers of type elem
// (not bytes and not handles, which have their own).
func numSliceCodec(elem reflect.Type) (func(*encoder, reflect.Value) error, func(*decoder, reflect.Value) error) {
	size := numSize(elem)
	signed := isInt(elem.Kind())
	shift := 64 - 8*size
	// Only int and uint can overflow on decode, on 32-bit machines.
	checkRange := elem.Kind() == reflect.Int || elem.Kind() == reflect.Uint
	enc := func(e *encoder, v reflect.Value) error {
		n := v.Len()
		if err := e.uvarint(uint64(n)); err != nil {
			return err
		}
		if n > (len(e.buf)-e.n)/size {
			_, err := e.next(n * size) // fails, before walking the slice
			return err
		}
		b, _ := e.next(n * size)
		for i := range n {
			x := v.Index(i)
			if signed {
				putUint(b[i*size:(i+1)*size], uint64(x.Int()))
			} else {
				putUint(b[i*size:(i+1)*size], x.Uint())
			}
		}
		return nil
	}
	dec := func(d *decoder, v reflect.Value) error {
		n, err := d.count(size)
		if err != nil || n == 0 {
			return err // canonical empty slice is nil
		}
		b, _ := d.next(n * size) // count checked they remain
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			x, u := s.Index(i), getUint(b[i*size:(i+1)*size])
			if signed {
				xi := int64(u<<shift) >> shift
				if checkRange && x.OverflowInt(xi) {
					return fmt.Errorf("%w: [%d]: %d overflows %v", ErrMalformed, i, xi, elem)
				}
				x.SetInt(xi)
			} else {
				if checkRange && x.OverflowUint(u) {
					return fmt.Errorf("%w: [%d]: %d overflows %v", ErrMalformed, i, u, elem)
				}
				x.SetUint(u)
			}
		}
		v.Set(s)
		return nil
	}
	return enc, dec
}
