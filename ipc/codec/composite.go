package codec

import (
	"reflect"
	"strconv"
)

// The codecs of types made of other types: slices, arrays, structs and
// pointers. Each takes the plans of its parts; calls go through the
// *plan so that a recursive type may use its own plan before it is
// finished.

// sliceCodec returns the codec of a slice of elem (not of bytes, which
// have their own). Its elements encode to at least one byte each, which
// the builder has checked.
func sliceCodec(elem *plan) (func(*encoder, reflect.Value) error, func(*decoder, reflect.Value) error) {
	enc := func(e *encoder, v reflect.Value) error {
		n := v.Len()
		if err := e.uvarint(uint64(n)); err != nil {
			return err
		}
		if n > 0 && n > (len(e.buf)-e.n)/elem.min {
			// Fail before walking a slice that cannot fit.
			_, err := e.next(n * elem.min)
			return err
		}
		for i := range n {
			if err := elem.enc(e, v.Index(i)); err != nil {
				return within(err, "["+strconv.Itoa(i)+"]")
			}
		}
		return nil
	}
	dec := func(d *decoder, v reflect.Value) error {
		n, err := d.count(elem.min)
		if err != nil || n == 0 {
			return err // canonical empty slice is nil
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			if err := elem.dec(d, s.Index(i)); err != nil {
				return within(err, "["+strconv.Itoa(i)+"]")
			}
		}
		v.Set(s)
		return nil
	}
	return enc, dec
}

// arrayCodec returns the codec of an array of elem (not of bytes).
func arrayCodec(elem *plan) (func(*encoder, reflect.Value) error, func(*decoder, reflect.Value) error) {
	enc := func(e *encoder, v reflect.Value) error {
		for i := range v.Len() {
			if err := elem.enc(e, v.Index(i)); err != nil {
				return within(err, "["+strconv.Itoa(i)+"]")
			}
		}
		return nil
	}
	dec := func(d *decoder, v reflect.Value) error {
		for i := range v.Len() {
			if err := elem.dec(d, v.Index(i)); err != nil {
				return within(err, "["+strconv.Itoa(i)+"]")
			}
		}
		return nil
	}
	return enc, dec
}

// structCodec returns the codec of a struct with the given encoded
// fields.
func structCodec(fields []field) (func(*encoder, reflect.Value) error, func(*decoder, reflect.Value) error) {
	enc := func(e *encoder, v reflect.Value) error {
		for _, f := range fields {
			if err := f.p.enc(e, v.Field(f.index)); err != nil {
				return within(err, f.name)
			}
		}
		return nil
	}
	dec := func(d *decoder, v reflect.Value) error {
		for _, f := range fields {
			if err := f.p.dec(d, v.Field(f.index)); err != nil {
				return within(err, f.name)
			}
		}
		return nil
	}
	return enc, dec
}

// pointerCodec returns the codec of a pointer to elem: a presence byte,
// then the value if there is one.
func pointerCodec(elem *plan) (func(*encoder, reflect.Value) error, func(*decoder, reflect.Value) error) {
	enc := func(e *encoder, v reflect.Value) error {
		if v.IsNil() {
			return e.byte(0)
		}
		if err := e.byte(1); err != nil {
			return err
		}
		return elem.enc(e, v.Elem())
	}
	dec := func(d *decoder, v reflect.Value) error {
		present, err := d.flag()
		if err != nil || !present {
			return err
		}
		if elem.min > len(d.data) {
			_, err := d.next(elem.min) // fails: too few bytes to justify the allocation
			return err
		}
		p := reflect.New(elem.typ)
		if err := elem.dec(d, p.Elem()); err != nil {
			return err
		}
		v.Set(p)
		return nil
	}
	return enc, dec
}
