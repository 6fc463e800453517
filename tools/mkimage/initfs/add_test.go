package initfs

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseAdd(t *testing.T) {
	tests := []struct {
		in      string
		want    Add
		wantErr string
	}{
		{in: "build/hello", want: Add{"build/hello", "/bin/hello"}},
		{in: "hello:/sbin/init", want: Add{"hello", "/sbin/init"}},
		{in: "hello:/etc/", want: Add{"hello", "/etc/hello"}},
		{in: "hello:/a//b/./c", want: Add{"hello", "/a/b/c"}},
		{in: "dir/with:colon:/x", want: Add{"dir/with:colon", "/x"}},
		{in: "hello:bin/hello", wantErr: "not absolute"},
		{in: "hello:/bin/../etc/x", wantErr: "'..'"},
		{in: "hello:/..", wantErr: "'..'"},
		{in: "hello:/", want: Add{"hello", "/hello"}},
		{in: "hello:/.", wantErr: "root directory"},
		{in: "hello:", wantErr: "empty guest path"},
		{in: ":/bin/x", wantErr: "empty host path"},
		{in: "", wantErr: "empty host path"},
		{in: "x:/a\x00b", wantErr: "NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseAdd(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseAdd(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAdd(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseAdd(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseSourceDateEpoch(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: "0", want: time.Unix(0, 0).UTC()},
		{in: "1700000000", want: time.Unix(1700000000, 0).UTC()},
		{in: "", wantErr: true},
		{in: "-1", wantErr: true},
		{in: "1.5", wantErr: true},
		{in: "yesterday", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseSourceDateEpoch(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseSourceDateEpoch(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseSourceDateEpoch(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

// FuzzParseAdd checks that ParseAdd never panics and that any guest path
// it accepts is clean, absolute and free of "..".
func FuzzParseAdd(f *testing.F) {
	for _, s := range []string{"a", "a:/b", "a:/b/", "a:/../b", "a::/b", ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAdd(s)
		if err != nil {
			return
		}
		g, err := CleanGuest(a.Guest)
		if err != nil || g != a.Guest || a.Guest == "/" || a.Host == "" {
			t.Fatalf("ParseAdd(%q) = %+v, which is not clean (%q, %v)", s, a, g, err)
		}
		for _, elem := range strings.Split(a.Guest, "/") {
			if elem == ".." {
				t.Fatalf("ParseAdd(%q) = %+v contains '..'", s, a)
			}
		}
	})
}
