package codec

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"valence.dev/ipc"
)

// Errors of the codec. Returned errors wrap exactly one of them, with the
// type and field that failed.
var (
	// ErrUnsupported: the type has a field the codec cannot carry.
	ErrUnsupported = errors.New("unsupported type")
	// ErrTooBig: the value encodes to more than ipc.MaxData bytes.
	ErrTooBig = errors.New("value too big for a message")
	// ErrTooManyHandles: the value holds more than ipc.MaxHandles
	// non-zero handles.
	ErrTooManyHandles = errors.New("too many handles for a message")
	// ErrMalformed: the message is not the canonical encoding of a value
	// of the requested type.
	ErrMalformed = errors.New("malformed message")
	// ErrNotPointer: Unmarshal needs a non-nil pointer; Marshal was given
	// nil or a nil pointer.
	ErrNotPointer = errors.New("need a non-nil pointer")
)

// Marshal encodes v into m: it sets m.Data, m.DataLen, m.NHandles and
// m.Handles (clearing the unused slots) and leaves the rest of the header,
// including the Label, as it was. If v is a pointer, Marshal encodes the
// value it points to (and does not copy it); otherwise it encodes a copy
// of v. On error m carries no data and no handles.
func Marshal(v any, m *ipc.Message) error {
	rv, err := addressable(v)
	if err != nil {
		return fmt.Errorf("codec: marshal: %w", err)
	}
	p, err := planFor(rv.Type())
	if err != nil {
		return err
	}
	e := encoder{buf: &m.Data}
	if err := p.enc(&e, rv); err != nil {
		m.DataLen, m.NHandles, m.Handles = 0, 0, [ipc.MaxHandles]ipc.Handle{}
		return fmt.Errorf("codec: marshal %v: %w", rv.Type(), err)
	}
	m.DataLen = uint32(e.n)
	m.NHandles = uint32(e.nh)
	m.Handles = e.handles
	return nil
}

// Unmarshal decodes m into the value v points to, which is first set to
// its zero value. It accepts only the canonical encoding of a value of
// that type (see the package documentation) and otherwise returns an
// error wrapping ErrMalformed; the contents of *v are then unspecified.
// It never panics on any message.
func Unmarshal(m *ipc.Message, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("codec: unmarshal into %T: %w", v, ErrNotPointer)
	}
	rv = rv.Elem()
	p, err := planFor(rv.Type())
	if err != nil {
		return err
	}
	if err := unmarshal(p, m, rv); err != nil {
		return fmt.Errorf("codec: unmarshal %v: %w", rv.Type(), err)
	}
	return nil
}

func unmarshal(p *plan, m *ipc.Message, rv reflect.Value) error {
	if m.DataLen > ipc.MaxData {
		return fmt.Errorf("%w: DataLen %d over %d", ErrMalformed, m.DataLen, ipc.MaxData)
	}
	if m.NHandles > ipc.MaxHandles {
		return fmt.Errorf("%w: NHandles %d over %d", ErrMalformed, m.NHandles, ipc.MaxHandles)
	}
	d := decoder{data: m.Data[:m.DataLen], handles: m.Handles[:m.NHandles]}
	rv.SetZero()
	if err := p.dec(&d, rv); err != nil {
		return err
	}
	if len(d.data) != 0 {
		return fmt.Errorf("%w: %d bytes of trailing garbage", ErrMalformed, len(d.data))
	}
	if d.nh != len(d.handles) {
		return fmt.Errorf("%w: %d handles sent, %d used", ErrMalformed, len(d.handles), d.nh)
	}
	return nil
}

// addressable returns the value to encode for Marshal's argument, made
// addressable so byte arrays can be copied as slices.
func addressable(v any) (reflect.Value, error) {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return reflect.Value{}, ErrNotPointer
	}
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return reflect.Value{}, ErrNotPointer
		}
		return rv.Elem(), nil
	}
	c := reflect.New(rv.Type()).Elem()
	c.Set(rv)
	return c, nil
}

// A pathError locates a failure inside a value, as in "Entries[3].Name".
type pathError struct {
	path string
	err  error
}

func (e *pathError) Error() string { return "at " + e.path + ": " + e.err.Error() }
func (e *pathError) Unwrap() error { return e.err }

// within returns err located in seg, a field name or an "[i]" index,
// of the value the path so far starts in.
func within(err error, seg string) error {
	pe, ok := err.(*pathError)
	if !ok {
		return &pathError{path: seg, err: err}
	}
	if !strings.HasPrefix(pe.path, "[") {
		seg += "."
	}
	pe.path = seg + pe.path
	return pe
}
