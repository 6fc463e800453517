package services

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"valence.dev/servers/net/netconn"
	"valence.dev/servers/net/stack"
)

// MaxBytes bounds GET /bytes/N.
const MaxBytes = 1 << 30

// Pattern fills b with the bytes that GET /bytes/N serves at offset off:
// byte i of the stream is i*7+i/251 truncated to a byte, which does not
// repeat with any power-of-two period, so a lost or duplicated block shows.
func Pattern(b []byte, off int64) {
	// The pattern repeats every 251*256 bytes (both terms return to the
	// same value mod 256), so copy from one precomputed period.
	pos := int(off % patternPeriod)
	for len(b) > 0 {
		n := copy(b, patternTable[pos:])
		b = b[n:]
		pos = 0
	}
}

const patternPeriod = 251 * 256

var patternTable = func() []byte {
	t := make([]byte, patternPeriod)
	for p := range t {
		t[p] = byte(p*7 + p/251)
	}
	return t
}()

// Handler returns the HTTP handler: GET / and GET /bytes/N.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "Hello from the Valence TCP/IP stack.\nTry /bytes/N for N bytes of data.\n")
	})
	mux.HandleFunc("GET /bytes/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.ParseInt(strings.TrimSpace(r.PathValue("n")), 10, 64)
		if err != nil || n < 0 || n > MaxBytes {
			http.Error(w, "N must be between 0 and 1073741824", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		buf := make([]byte, 64<<10)
		for off := int64(0); off < n; {
			k := min(int64(len(buf)), n-off)
			Pattern(buf[:k], off)
			if _, err := w.Write(buf[:k]); err != nil {
				return
			}
			off += k
		}
	})
	return mux
}

// ServeHTTP runs the HTTP server on port until the loop stops. It returns
// once the listener is open; the server runs in its own goroutines.
func ServeHTTP(loop *stack.Loop, port uint16) (*http.Server, error) {
	l, err := netconn.Listen(loop, port, 128)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	return srv, nil
}
