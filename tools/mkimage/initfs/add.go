package initfs

import (
	"fmt"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Add is one host file to place in the archive at Guest, a clean absolute
// slash-separated path such as "/bin/hello".
type Add struct {
	Host  string
	Guest string
}

// ParseAdd parses a -add argument, "host" or "host:/guest/path". The
// split is at the last colon, so host paths containing colons need an
// explicit guest path. Without one the guest path is /bin/<basename>; a
// guest path ending in "/" names a directory and gets the basename too.
func ParseAdd(s string) (Add, error) {
	host, guest := s, ""
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host, guest = s[:i], s[i+1:]
		if guest == "" {
			return Add{}, fmt.Errorf("initfs: -add %q: empty guest path after ':'", s)
		}
	}
	if host == "" {
		return Add{}, fmt.Errorf("initfs: -add %q: empty host path", s)
	}
	base := filepath.Base(host)
	switch {
	case guest == "":
		guest = "/bin/" + base
	case strings.HasSuffix(guest, "/"):
		guest += base
	}
	g, err := CleanGuest(guest)
	if err != nil {
		return Add{}, fmt.Errorf("initfs: -add %q: %w", s, err)
	}
	return Add{Host: host, Guest: g}, nil
}

// CleanGuest checks that p is an absolute guest path naming something
// below the root and returns it cleaned. ".." is refused outright rather
// than resolved: in a build script it is far more likely a mistake than a
// deliberate way to spell a path.
func CleanGuest(p string) (string, error) {
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("guest path %q is not absolute", p)
	}
	if strings.IndexByte(p, 0) >= 0 {
		return "", fmt.Errorf("guest path %q contains a NUL byte", p)
	}
	for _, elem := range strings.Split(p, "/") {
		if elem == ".." {
			return "", fmt.Errorf("guest path %q contains '..'", p)
		}
	}
	c := path.Clean(p)
	if c == "/" {
		return "", fmt.Errorf("guest path %q names the root directory", p)
	}
	return c, nil
}

// ParseSourceDateEpoch interprets a SOURCE_DATE_EPOCH value (decimal
// seconds since the Unix epoch), per reproducible-builds.org. A malformed
// value is an error rather than ignored, so a broken build environment is
// noticed instead of quietly producing unreproducible output.
func ParseSourceDateEpoch(s string) (time.Time, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("initfs: SOURCE_DATE_EPOCH=%q is not a non-negative integer", s)
	}
	return time.Unix(n, 0).UTC(), nil
}
