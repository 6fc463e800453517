package codec_test

import (
	"valence.dev/ipc"
)

// Types shared by the tests, fuzz targets and benchmarks: together they
// use every supported kind.

type scalars struct {
	B   bool
	I8  int8
	I16 int16
	I32 int32
	I64 int64
	I   int
	U8  uint8
	U16 uint16
	U32 uint32
	U64 uint64
	U   uint
	F32 float32
	F64 float64
	S   string
}

type code int32

type blob []byte

type inner struct {
	Name string
	Tags []string
}

type composite struct {
	Code    code
	Blob    blob
	Key     [4]byte
	Pair    [2]uint16
	Words   []uint32
	Grid    [][]int8
	Inner   inner
	Many    []inner
	Opt     *inner
	Skipped string `ipc:"-"`
	private int
}

type handles struct {
	A    ipc.Handle
	Note string
	B    ipc.Handle
	More []ipc.Handle
	In   *withHandle
}

type withHandle struct {
	H ipc.Handle
}

// node is recursive through a pointer and a slice.
type node struct {
	Value    int16
	Next     *node
	Children []node
}

// Base is exported so that embedding it makes an exported field.
type Base struct {
	Code code
}

type embedded struct {
	inner  // unexported embedded type: skipped like any unexported field
	Inner2 inner
	Base   // exported embedded type: a nested struct field
	composite
	ID uint8
}

type payload struct {
	Data []byte
}

type words struct {
	W []uint64
}

type empty struct{}
