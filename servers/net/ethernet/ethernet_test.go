package ethernet

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRoundTrip(t *testing.T) {
	h := Header{Dst: Broadcast, Src: Address{2, 0, 0, 0, 0, 1}, Type: TypeARP}
	b := make([]byte, HeaderLen+3)
	h.Encode(b)
	copy(b[HeaderLen:], "abc")
	got, payload, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(h, got); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if string(payload) != "abc" {
		t.Errorf("payload = %q, want abc", payload)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name  string
		frame []byte
		want  error
	}{
		{"empty", nil, ErrShort},
		{"13 bytes", make([]byte, 13), ErrShort},
		{"length field", make([]byte, 20), ErrNotTyped},
	}
	for _, tc := range tests {
		if _, _, err := Parse(tc.frame); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestAddress(t *testing.T) {
	a, err := ParseAddress("02:00:5e:10:00:01")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.String(), "02:00:5e:10:00:01"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if a.IsMulticast() || !Broadcast.IsMulticast() {
		t.Error("IsMulticast wrong")
	}
	if _, err := ParseAddress("zz"); err == nil {
		t.Error("ParseAddress(zz) succeeded")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(make([]byte, 14))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, p, err := Parse(b)
		if err != nil {
			return
		}
		out := make([]byte, HeaderLen+len(p))
		h.Encode(out)
		copy(out[HeaderLen:], p)
		if string(out) != string(b) {
			t.Fatalf("re-encode differs")
		}
	})
}
