// Package codec turns Go values into the data bytes and handles of an
// ipc.Message and back. It is written once, with reflection, so that no
// protocol, client or server ever packs bytes by hand: a protocol package
// declares ordinary Go structs and this package carries them.
//
// # Plans
//
// The first time a type is seen, the codec walks it once and builds a plan:
// a tree of small encode and decode functions, one per field, chosen by the
// field's kind. Plans are cached in a sync.Map keyed by reflect.Type, so
// every later Marshal or Unmarshal of that type only runs the plan. Check
// builds (and caches) the plan eagerly; protocol definitions call it at
// init time so an unsupported field type is a programmer error reported at
// start-up, not a failure on the first call. A recursive type (a struct
// reaching itself through a pointer or slice) gets one plan that refers to
// itself.
//
// # Wire format
//
// Data bytes are the fields of the value in declaration order, with no
// names, tags or padding. All numbers are little endian.
//
//	bool                  1 byte, 0 or 1 (anything else is malformed)
//	int8, uint8           1 byte
//	int16, uint16         2 bytes
//	int32, uint32         4 bytes
//	int64, uint64         8 bytes
//	int, uint             8 bytes (a value that does not fit the
//	                      receiver's int is malformed)
//	float32, float64      4 or 8 bytes, the IEEE 754 bits
//	string, []byte        uvarint length, then the bytes
//	[]T                   uvarint count, then each element
//	[N]T                  the N elements; no count
//	struct                its exported fields in order
//	*T                    1 presence byte: 0 for nil, 1 followed by T
//	ipc.Handle            1 byte: 0 for the zero handle, otherwise
//	                      k (1-based) meaning Header.Handles[k-1]
//
// Handles never travel in the data bytes: the kernel must see them in
// the header to move them between handle tables. Marshal appends each
// non-zero handle to Header.Handles in the order it meets them and writes
// its 1-based index in its place; a zero handle takes no slot, since
// zero never names a capability. More than ipc.MaxHandles non-zero
// handles is ErrTooManyHandles.
//
// Unexported fields and fields tagged `ipc:"-"` are skipped: they are
// neither written nor read, and Unmarshal leaves them zero. Embedded
// structs are fields like any other (encoded as a nested struct); their
// fields are not promoted. Only the exact type ipc.Handle is a handle: a
// type defined as `type Foo ipc.Handle` is a plain uint64.
//
// Unsupported, reported by Check: maps (no canonical order), channels,
// functions, interfaces (no type on the wire), complex numbers, uintptr
// and unsafe.Pointer (addresses mean nothing in another process), slices
// whose element encodes to zero bytes (a count could then ask for
// unbounded work without bytes to justify it), arrays longer than
// ipc.MaxData, and types whose smallest encoding exceeds ipc.MaxData.
//
// # Canonical encoding
//
// Every value has exactly one encoding and Unmarshal accepts only that
// encoding, so decode-then-encode returns the input bytes unchanged. This
// is what the fuzz tests check, and it makes messages comparable byte for
// byte. It follows that:
//
//   - nil and empty slices both encode as count 0 and decode as nil
//     (likewise a nil []byte and an empty one); strings have no nil;
//   - uvarints must be minimal (no redundant 0x80 continuation bytes);
//   - bools are 0 or 1 and presence bytes are 0 or 1;
//   - handle indexes must be 1, 2, 3, ... in order, every handle in the
//     header must be used, and a zero value in Header.Handles is
//     malformed (the sender's codec would have written index 0 instead);
//   - a float32 whose bits do not survive the trip through float64 (a
//     signalling NaN) is malformed;
//   - bytes after the value are trailing garbage and malformed.
//
// # Untrusted input
//
// Unmarshal reads bytes from another process and treats them as hostile.
// It never panics, returns errors wrapping ErrMalformed that name the
// field, and never allocates more than the input justifies: before making
// a slice of n elements it checks that n times the element's smallest
// encoding fits in the bytes that remain, and before allocating the
// target of a pointer it checks the same for the pointed-to type. Every
// slice element and every pointer consumes at least one byte, so the work
// and the recursion depth of a decode are bounded by the message size.
//
// Marshal treats the value as trusted but bounded: encoding more than
// ipc.MaxData bytes is ErrTooBig, never a truncation, and the check comes
// before any copy, so even a cyclic pointer structure ends in ErrTooBig.
package codec
