package fakenvme

import (
	"encoding/binary"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The driver never chains PRP lists; the fake must still follow them
// (Base 2.0 §4.1.1) and refuse entries with offsets or outside memory.
func TestPRPSegments(t *testing.T) {
	f := New(Config{})
	defer f.Close()
	data, _ := f.DMA.Alloc(8*pageSize, pageSize)
	list1, _ := f.DMA.Alloc(pageSize, pageSize)
	list2, _ := f.DMA.Alloc(pageSize, pageSize)
	// list1 starts 16 bytes before its end: one data entry, then a chain.
	tail := list1.Addr + pageSize - 16
	binary.LittleEndian.PutUint64(list1.Bytes[pageSize-16:], data.Addr+pageSize)
	binary.LittleEndian.PutUint64(list1.Bytes[pageSize-8:], list2.Addr)
	for i := range 3 {
		binary.LittleEndian.PutUint64(list2.Bytes[8*i:], data.Addr+uint64(2+i)*pageSize)
	}
	cases := []struct {
		name       string
		prp1, prp2 uint64
		n          uint64
		wantLens   []int
		wantErr    bool
	}{
		{"one page", data.Addr, 0, pageSize, []int{pageSize}, false},
		{"offset", data.Addr + 100, data.Addr + pageSize, pageSize, []int{pageSize - 100, 100}, false},
		{"chained lists", data.Addr, tail, 5 * pageSize, []int{pageSize, pageSize, pageSize, pageSize, pageSize}, false},
		{"unaligned PRP1", data.Addr + 2, 0, 8, nil, true},
		{"PRP2 with offset", data.Addr, data.Addr + pageSize + 8, pageSize + 8, nil, true},
		{"outside memory", data.Addr + 8*pageSize, 0, 8, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.mu.Lock()
			segs, err := f.prpSegments(tc.prp1, tc.prp2, tc.n)
			f.mu.Unlock()
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error: %v", err, tc.wantErr)
			}
			var lens []int
			for _, s := range segs {
				lens = append(lens, len(s))
			}
			if diff := cmp.Diff(tc.wantLens, lens); err == nil && diff != "" {
				t.Errorf("segment lengths (-want +got):\n%s", diff)
			}
		})
	}
}
