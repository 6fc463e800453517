package frame

import "testing"

func TestUsed(t *testing.T) {
	a := newAlloc(t, 130, [2]uint64{0, 128 * PageSize}) // frames 1-127 free; 128, 129 never added
	pa, err := a.Alloc()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		pa   uint64
		want bool
	}{
		{"frame 0", 0, true},
		{"allocated", pa, true},
		{"allocated, unaligned", pa + 5, true},
		{"free", pa + PageSize, false},
		{"free, second word", 100 * PageSize, false},
		{"never added", 128 * PageSize, true},
		{"beyond nframes", 130 * PageSize, true},
		{"far beyond", 1 << 40, true},
	} {
		if got := a.Used(tc.pa); got != tc.want {
			t.Errorf("%s: Used(%#x) = %v, want %v", tc.name, tc.pa, got, tc.want)
		}
	}
	if err := a.Free(pa); err != nil {
		t.Fatal(err)
	}
	if a.Used(pa) {
		t.Errorf("Used(%#x) after Free = true", pa)
	}
}
