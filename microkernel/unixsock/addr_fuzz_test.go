package unixsock

import (
	"bytes"
	"encoding/binary"
	"testing"

	"gvisor.dev/gvisor/pkg/abi/linux"
)

// FuzzDecodeAddr: any bytes a program passes as a sockaddr_un decode
// without panicking, and an address that decodes encodes back to bytes
// that decode to the same address (getsockname's answer is a valid
// bind argument).
func FuzzDecodeAddr(f *testing.F) {
	fam := binary.LittleEndian.AppendUint16(nil, linux.AF_UNIX)
	f.Add(fam)
	f.Add(append(append([]byte(nil), fam...), "/tmp/sock\x00junk"...))
	f.Add(append(append([]byte(nil), fam...), "\x00abstract"...))
	f.Add(append(append([]byte(nil), fam...), bytes.Repeat([]byte("p"), linux.UnixPathMax)...))
	f.Add([]byte{2, 0, 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, e := DecodeAddr(b)
		if e != 0 {
			return
		}
		if len(a) > linux.UnixPathMax {
			t.Fatalf("%q decodes to a name of %d bytes, more than sun_path holds", b, len(a))
		}
		enc := a.Encode()
		if len(enc) > MaxAddrLen {
			return // a full-length path's NUL does not fit, as on Linux
		}
		back, e := DecodeAddr(enc)
		if e != 0 || back != a {
			t.Fatalf("%q: decoded %q, encoded %q, decoded again %q (%v)", b, a, enc, back, e)
		}
	})
}
