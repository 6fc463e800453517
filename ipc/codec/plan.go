package codec

import (
	"fmt"
	"reflect"
	"sync"

	"valence.dev/ipc"
)

// A plan encodes and decodes values of one type. Plans of composite types
// hold the plans of their parts; a recursive type's plan holds itself, so
// the functions are called through the *plan, never copied out of it
// while it is being built.
type plan struct {
	typ reflect.Type
	enc func(e *encoder, v reflect.Value) error
	// dec decodes into v, which is addressable and holds the zero value.
	dec func(d *decoder, v reflect.Value) error
	// min is the smallest number of data bytes any value of typ encodes
	// to; decoders check it against the remaining bytes before they
	// allocate.
	min int
}

// cached is what the plan cache holds for a type: its plan, or the reason
// it has none.
type cached struct {
	p   *plan
	err error
}

// plans caches one entry per reflect.Type. Entries are never removed: a
// program has a fixed, small set of message types.
var plans sync.Map // reflect.Type -> cached

var handleType = reflect.TypeFor[ipc.Handle]()

// Check reports whether values of type t can be encoded: it returns an
// error wrapping ErrUnsupported naming the first field of an unsupported
// type. It analyses t once and caches the result, so it is cheap to call
// again. Protocol definitions call it at init time.
func Check(t reflect.Type) error {
	if t == nil {
		return fmt.Errorf("codec: %w: nil type", ErrUnsupported)
	}
	_, err := planFor(t)
	return err
}

// planFor returns the plan for t, building and caching it on first use.
func planFor(t reflect.Type) (*plan, error) {
	if c, ok := plans.Load(t); ok {
		return c.(cached).p, c.(cached).err
	}
	b := builder{building: make(map[reflect.Type]*plan)}
	p, err := b.build(t, t.String())
	if err != nil {
		// Only the outer type's failure is cached; the partial plans of
		// its parts are dropped.
		plans.Store(t, cached{err: err})
		return nil, err
	}
	// Publish every plan the build made, so that their types need no
	// second analysis. Loaded plans are kept if another goroutine won.
	for typ, sub := range b.building {
		plans.LoadOrStore(typ, cached{p: sub})
	}
	c, _ := plans.LoadOrStore(t, cached{p: p})
	return c.(cached).p, nil
}

// A builder builds the plans for one type and the types it contains.
type builder struct {
	// building holds the plans made by this build, including those not
	// finished yet, which is how a recursive type finds itself.
	building map[reflect.Type]*plan
}

// build returns the plan for t; path names t's place in the outer type
// for error messages.
func (b *builder) build(t reflect.Type, path string) (*plan, error) {
	if c, ok := plans.Load(t); ok && c.(cached).err == nil {
		return c.(cached).p, nil
	}
	if p, ok := b.building[t]; ok {
		return p, nil
	}
	p := &plan{typ: t, min: minSize(t)}
	b.building[t] = p
	if p.min > ipc.MaxData {
		return nil, unsupported(path, t, fmt.Sprintf("encodes to more than %d bytes", ipc.MaxData))
	}
	if err := b.fill(p, path); err != nil {
		return nil, err
	}
	return p, nil
}

// fill sets p's functions according to the kind of p.typ.
func (b *builder) fill(p *plan, path string) error {
	t := p.typ
	if t == handleType {
		p.enc, p.dec = encHandle, decHandle
		return nil
	}
	switch t.Kind() {
	case reflect.Bool:
		p.enc, p.dec = encBool, decBool
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		p.enc, p.dec = intCodec(numSize(t))
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
		p.enc, p.dec = uintCodec(numSize(t))
	case reflect.Float32:
		p.enc, p.dec = encFloat32, decFloat32
	case reflect.Float64:
		p.enc, p.dec = encFloat64, decFloat64
	case reflect.String:
		p.enc, p.dec = encString, decString
	case reflect.Slice:
		return b.fillSlice(p, path)
	case reflect.Array:
		return b.fillArray(p, path)
	case reflect.Struct:
		return b.fillStruct(p, path)
	case reflect.Pointer:
		elem, err := b.build(t.Elem(), "*"+path)
		if err != nil {
			return err
		}
		p.enc, p.dec = pointerCodec(elem)
	default:
		return unsupported(path, t, "")
	}
	return nil
}

func (b *builder) fillSlice(p *plan, path string) error {
	t := p.typ
	switch k := t.Elem().Kind(); {
	case k == reflect.Uint8:
		p.enc, p.dec = encBytes, decBytes
		return nil
	case t.Elem() != handleType && (isInt(k) || isUint(k)):
		p.enc, p.dec = numSliceCodec(t.Elem())
		return nil
	}
	elem, err := b.build(t.Elem(), path+"[]")
	if err != nil {
		return err
	}
	if minSize(t.Elem()) == 0 {
		return unsupported(path, t, "elements encode to zero bytes")
	}
	p.enc, p.dec = sliceCodec(elem)
	return nil
}

func (b *builder) fillArray(p *plan, path string) error {
	t := p.typ
	if t.Len() > ipc.MaxData {
		return unsupported(path, t, "longer than a message")
	}
	if t.Elem().Kind() == reflect.Uint8 {
		p.enc, p.dec = encByteArray, decByteArray
		return nil
	}
	elem, err := b.build(t.Elem(), path+"[]")
	if err != nil {
		return err
	}
	p.enc, p.dec = arrayCodec(elem)
	return nil
}

// A field is one encoded field of a struct.
type field struct {
	index int
	name  string
	p     *plan
}

func (b *builder) fillStruct(p *plan, path string) error {
	t := p.typ
	var fields []field
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		switch tag := f.Tag.Get("ipc"); tag {
		case "-":
			continue
		case "":
		default:
			return fmt.Errorf("codec: %w: %s.%s: unknown tag ipc:%q", ErrUnsupported, path, f.Name, tag)
		}
		fp, err := b.build(f.Type, path+"."+f.Name)
		if err != nil {
			return err
		}
		fields = append(fields, field{index: i, name: f.Name, p: fp})
	}
	p.enc, p.dec = structCodec(fields)
	return nil
}

func unsupported(path string, t reflect.Type, why string) error {
	if why != "" {
		return fmt.Errorf("codec: %w: %s has type %v: %s", ErrUnsupported, path, t, why)
	}
	return fmt.Errorf("codec: %w: %s has type %v", ErrUnsupported, path, t)
}

// numSize is the encoded size of a number of type t: int and uint are
// always 8 bytes, whatever the machine.
func numSize(t reflect.Type) int {
	switch t.Kind() {
	case reflect.Int, reflect.Uint:
		return 8
	}
	return int(t.Size())
}

// minSize is the smallest encoding of any value of type t, capped just
// above ipc.MaxData so it cannot overflow. It does not look through
// pointers or slices, whose smallest encoding is one byte, so it ends even
// for recursive types. Unsupported types count as zero; the builder
// rejects them separately.
func minSize(t reflect.Type) int {
	const limit = ipc.MaxData + 1
	if t == handleType {
		return 1
	}
	switch t.Kind() {
	case reflect.Bool:
		return 1
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int,
		reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint,
		reflect.Float32, reflect.Float64:
		return numSize(t)
	case reflect.String, reflect.Slice, reflect.Pointer:
		return 1
	case reflect.Array:
		if t.Len() == 0 {
			return 0
		}
		e := minSize(t.Elem())
		if e > 0 && t.Len() > limit/e {
			return limit
		}
		return min(t.Len()*e, limit)
	case reflect.Struct:
		n := 0
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() || f.Tag.Get("ipc") == "-" {
				continue
			}
			n = min(n+minSize(f.Type), limit)
		}
		return n
	}
	return 0
}
