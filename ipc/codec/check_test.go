package codec_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"valence.dev/ipc"
	"valence.dev/ipc/codec"
)

// unsafePointer is the type unsafe.Pointer, reached without importing
// unsafe, which only *_unsafe.go files may do.
var unsafePointer = reflect.TypeOf(reflect.Value.UnsafePointer).Out(0)

func TestCheck(t *testing.T) {
	type deep struct {
		Outer struct {
			Inner []struct{ M map[string]int }
		}
	}
	tests := []struct {
		name   string
		typ    reflect.Type
		ok     bool
		wantIn string // a substring of the error naming the culprit
	}{
		{name: "scalars", typ: reflect.TypeFor[scalars](), ok: true},
		{name: "composite", typ: reflect.TypeFor[composite](), ok: true},
		{name: "handles", typ: reflect.TypeFor[handles](), ok: true},
		{name: "recursive", typ: reflect.TypeFor[node](), ok: true},
		{name: "empty struct", typ: reflect.TypeFor[empty](), ok: true},
		{name: "pointer to pointer", typ: reflect.TypeFor[**inner](), ok: true},
		{name: "array of empty structs", typ: reflect.TypeFor[[8]empty](), ok: true},
		{name: "exactly MaxData bytes", typ: reflect.TypeFor[[ipc.MaxData]byte](), ok: true},
		{name: "unsupported but unexported", typ: reflect.TypeFor[struct {
			A  int8
			fn func()
		}](), ok: true},
		{name: "unsupported but skipped", typ: reflect.TypeFor[struct {
			A  int8
			Ch chan int `ipc:"-"`
		}](), ok: true},

		{name: "nil", typ: nil},
		{name: "map", typ: reflect.TypeFor[map[string]int]()},
		{name: "chan", typ: reflect.TypeFor[chan int]()},
		{name: "func", typ: reflect.TypeFor[func()]()},
		{name: "interface", typ: reflect.TypeFor[any]()},
		{name: "error interface", typ: reflect.TypeFor[struct{ Err error }](), wantIn: "Err"},
		{name: "unsafe pointer", typ: reflect.StructOf([]reflect.StructField{{Name: "P", Type: unsafePointer}}), wantIn: ".P"},
		{name: "uintptr", typ: reflect.TypeFor[uintptr]()},
		{name: "complex", typ: reflect.TypeFor[complex128]()},
		{name: "pointer to map", typ: reflect.TypeFor[*map[int]int]()},
		{name: "slice of funcs", typ: reflect.TypeFor[[]func()]()},
		{name: "deep map", typ: reflect.TypeFor[deep](), wantIn: "Outer.Inner[].M"},
		{name: "slice of empty structs", typ: reflect.TypeFor[[]empty](), wantIn: "zero bytes"},
		{name: "array longer than a message", typ: reflect.TypeFor[[ipc.MaxData + 1]byte]()},
		{name: "minimum over MaxData", typ: reflect.TypeFor[struct{ A, B [3000]byte }]()},
		{name: "pointer to too big", typ: reflect.TypeFor[struct{ P *[2][3000]byte }](), wantIn: ".P"},
		{name: "unknown tag", typ: reflect.TypeFor[struct {
			A int8 `ipc:"optional"`
		}](), wantIn: "optional"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := codec.Check(tt.typ)
			if tt.ok {
				if err != nil {
					t.Fatalf("Check(%v): %v, want nil", tt.typ, err)
				}
				return
			}
			if !errors.Is(err, codec.ErrUnsupported) {
				t.Fatalf("Check(%v): %v, want %v", tt.typ, err, codec.ErrUnsupported)
			}
			if !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("Check(%v): %q does not name %q", tt.typ, err, tt.wantIn)
			}
			// The cached verdict is the same.
			if err2 := codec.Check(tt.typ); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("second Check(%v): %v, want %v", tt.typ, err2, err)
			}
		})
	}
}

// TestUnsupportedAtUse checks that Marshal and Unmarshal report the same
// error as Check for a type that fails it.
func TestUnsupportedAtUse(t *testing.T) {
	type bad struct{ F func() }
	var m ipc.Message
	if err := codec.Marshal(&bad{}, &m); !errors.Is(err, codec.ErrUnsupported) {
		t.Errorf("Marshal: %v, want %v", err, codec.ErrUnsupported)
	}
	if err := codec.Unmarshal(&m, &bad{}); !errors.Is(err, codec.ErrUnsupported) {
		t.Errorf("Unmarshal: %v, want %v", err, codec.ErrUnsupported)
	}
}
