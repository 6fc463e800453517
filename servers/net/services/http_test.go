package services

import (
	"io"
	"net/http/httptest"
	"testing"
)

func TestPattern(t *testing.T) {
	tests := []struct{ off, n int64 }{{0, 10}, {250, 300}, {patternPeriod - 5, 20}, {3 * patternPeriod, 7}, {123456789, 100000}}
	for _, tc := range tests {
		got := make([]byte, tc.n)
		Pattern(got, tc.off)
		for i := range got {
			p := tc.off + int64(i)
			if want := byte(p*7 + p/251); got[i] != want {
				t.Fatalf("offset %d: got %d, want %d", p, got[i], want)
			}
		}
	}
}

func TestHandler(t *testing.T) {
	tests := []struct {
		path   string
		status int
		length int
	}{
		{"/", 200, -1},
		{"/bytes/0", 200, 0},
		{"/bytes/100000", 200, 100000},
		{"/bytes/-1", 400, -1},
		{"/bytes/x", 400, -1},
		{"/nope", 404, -1},
	}
	for _, tc := range tests {
		rec := httptest.NewRecorder()
		Handler().ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
		body, _ := io.ReadAll(rec.Body)
		if rec.Code != tc.status || (tc.length >= 0 && len(body) != tc.length) {
			t.Errorf("GET %s: %d with %d bytes", tc.path, rec.Code, len(body))
		}
	}
}
