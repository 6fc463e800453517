package mbimage

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHeaderChecksum(t *testing.T) {
	for _, flags := range []uint32{0, FlagAOutKludge, FlagPageAlign | FlagMemInfo | FlagAOutKludge, ^uint32(0)} {
		b := Header{Flags: flags}.Marshal()
		le := binary.LittleEndian
		if sum := le.Uint32(b[0:]) + le.Uint32(b[4:]) + le.Uint32(b[8:]); sum != 0 {
			t.Errorf("flags %#x: magic+flags+checksum = %#x, want 0", flags, sum)
		}
	}
}

func TestParseHeader(t *testing.T) {
	good := Header{
		Flags:      FlagPageAlign | FlagMemInfo | FlagAOutKludge,
		HeaderAddr: 0x1ff000, LoadAddr: 0x1ff000, LoadEndAddr: 0x1ff000 + 0x2000,
		BSSEndAddr: 0x203000, EntryAddr: 0x200010,
	}
	// image places h at offset off of an n-byte file.
	image := func(h Header, off, n int) []byte {
		b := make([]byte, n)
		copy(b[off:], h.Marshal())
		return b
	}
	with := func(f func(*Header)) Header { h := good; f(&h); return h }
	tests := []struct {
		name    string
		file    []byte
		want    Header
		wantOff int
		wantErr error
	}{
		{name: "valid", file: image(good, 0, 0x2000), want: good},
		{
			name: "header later in the file, loaded with it",
			file: image(with(func(h *Header) { h.HeaderAddr += 0x100 }), 0x100, 0x2000),
			want: with(func(h *Header) { h.HeaderAddr += 0x100 }), wantOff: 0x100,
		},
		{
			name: "load_end 0 means whole file",
			file: image(with(func(h *Header) { h.LoadEndAddr = 0 }), 0, 0x2000),
			want: with(func(h *Header) { h.LoadEndAddr = 0 }),
		},
		{
			name: "bss_end 0 means none",
			file: image(with(func(h *Header) { h.BSSEndAddr = 0 }), 0, 0x2000),
			want: with(func(h *Header) { h.BSSEndAddr = 0 }),
		},
		{name: "empty file", file: nil, wantErr: ErrNoHeader},
		{name: "zeros", file: make([]byte, 0x2000), wantErr: ErrNoHeader},
		{name: "misaligned", file: image(good, 2, 0x2000), wantErr: ErrNoHeader},
		{name: "bad checksum", file: func() []byte { b := image(good, 0, 0x2000); b[8]++; return b }(), wantErr: ErrNoHeader},
		{name: "beyond 8192 bytes", file: image(good, 8192, 0x4000), wantErr: ErrHeaderTooFar},
		{name: "straddles 8192 bytes", file: image(good, 8192-16, 0x4000), wantErr: ErrHeaderTooFar},
		{name: "header cut short", file: image(good, 0, 20), wantErr: ErrFileTruncated},
		{name: "file shorter than load range", file: image(good, 0, 0x1fff), wantErr: ErrFileTruncated},
		{name: "no kludge", file: image(with(func(h *Header) { h.Flags = FlagMemInfo }), 0, 0x2000), wantErr: ErrBadHeader},
		{name: "unknown required flag", file: image(with(func(h *Header) { h.Flags |= 1 << 5 }), 0, 0x2000), wantErr: ErrBadHeader},
		{name: "below 1 MiB", file: image(with(func(h *Header) {
			h.HeaderAddr, h.LoadAddr, h.LoadEndAddr, h.BSSEndAddr, h.EntryAddr = 0x1000, 0x1000, 0x3000, 0, 0x1000
		}), 0, 0x2000), wantErr: ErrBadHeader},
		{name: "header_addr below load_addr", file: image(with(func(h *Header) { h.HeaderAddr-- }), 0, 0x2000), wantErr: ErrBadHeader},
		{name: "header_addr past its offset", file: image(with(func(h *Header) { h.HeaderAddr += 4 }), 0, 0x2000), wantErr: ErrBadHeader},
		{name: "load_end below load", file: image(with(func(h *Header) { h.LoadEndAddr = h.LoadAddr }), 0, 0x2000), wantErr: ErrBadHeader},
		{name: "bss_end below load_end", file: image(with(func(h *Header) { h.BSSEndAddr = 0x200000 }), 0, 0x2000), wantErr: ErrBadHeader},
		{name: "entry past load_end", file: image(with(func(h *Header) { h.EntryAddr = h.LoadEndAddr }), 0, 0x2000), wantErr: ErrBadHeader},
		{name: "entry below load", file: image(with(func(h *Header) { h.EntryAddr = 0x100000 }), 0, 0x2000), wantErr: ErrBadHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, off, err := ParseHeader(tt.file)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseHeader error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, h); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantOff, off); diff != "" {
				t.Errorf("offset (-want +got):\n%s", diff)
			}
		})
	}
}
