package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestCpioLayout(t *testing.T) {
	var b bytes.Buffer
	if err := writeCpio(&b, []cpioEntry{{name: "init", mode: sIFREG | 0o755, data: []byte("abc")}}); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	if !strings.HasPrefix(s, "070701") {
		t.Fatalf("no newc magic: %q", s[:16])
	}
	if b.Len()%4 != 0 {
		t.Errorf("archive length %d is not a multiple of 4", b.Len())
	}
	// Header 110 bytes + "init\x00" (5) = 115, padded to 116; then 3 data
	// bytes padded to 4; then the trailer.
	if got := s[116:119]; got != "abc" {
		t.Errorf("data at 116 = %q", got)
	}
	if !strings.Contains(s, "TRAILER!!!\x00") {
		t.Error("no trailer")
	}
	// filesize field (7th) of the first header is 3.
	if got := s[6+6*8 : 6+7*8]; got != "00000003" {
		t.Errorf("filesize field = %q", got)
	}
}
