package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSizeFlag(t *testing.T) {
	tests := []struct {
		in      string
		want    size
		wantErr bool
		str     string
	}{
		{"0", 0, false, "0 bytes"},
		{"4096", 4096, false, "4 KiB"},
		{"100", 100, false, "100 bytes"},
		{"64M", 64 << 20, false, "64 MiB"},
		{"64m", 64 << 20, false, "64 MiB"},
		{"512K", 512 << 10, false, "512 KiB"},
		{"1536K", 1536 << 10, false, "1536 KiB"},
		{"2G", 2 << 30, false, "2 GiB"},
		{"", 0, true, ""},
		{"M", 0, true, ""},
		{"64MB", 0, true, ""},
		{"-1", 0, true, ""},
		{"9000000000G", 0, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var s size
			err := s.Set(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Set(%q): %v", tt.in, err)
			}
			if tt.wantErr {
				return
			}
			if diff := cmp.Diff(tt.want, s); diff != "" {
				t.Errorf("Set(%q) (-want +got):\n%s", tt.in, diff)
			}
			if got := s.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
		})
	}
}
