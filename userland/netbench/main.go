package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The ports and the HTTP body; tools/bench's net.go has the same.
const (
	sinkPort    = 5201
	sourcePort  = 5202
	connectPort = 5203
	httpPort    = 8080
)

// httpBody is the answer to GET /: 64 bytes.
var httpBody = strings.Repeat("netbench", 7) + "valence\n"

// reportEvery is how often the sink reports its count while data flows.
const reportEvery = 100 * time.Millisecond

func main() {
	fmt.Println("netbench: start")
	code := mainCode()
	fmt.Println("netbench: done")
	finish(code)
}

func mainCode() int {
	fs := flag.NewFlagSet("netbench", flag.ContinueOnError)
	fs.SetOutput(os.Stdout)
	addr := fs.String("addr", "10.0.2.15/24", "the interface's address, set only as a Linux guest's init")
	limit := fs.Duration("limit", 15*time.Minute, "end after this long, whatever the host does")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if os.Getpid() == 1 && sysname() == "linux" {
		if err := prepareLinux(*addr); err != nil {
			fmt.Println("netbench: FAILED: preparing the Linux guest:", err)
			return 1
		}
	}
	quit := make(chan struct{})
	for _, s := range []struct {
		port  int
		serve func(net.Conn)
	}{
		{sinkPort, sink},
		{sourcePort, source},
		{connectPort, greet},
	} {
		l, err := net.Listen("tcp", fmt.Sprintf(":%d", s.port))
		if err != nil {
			fmt.Println("netbench: FAILED:", err)
			return 1
		}
		go acceptLoop(l, s.serve)
	}
	l, err := net.Listen("tcp", fmt.Sprintf(":%d", httpPort))
	if err != nil {
		fmt.Println("netbench: FAILED:", err)
		return 1
	}
	go http.Serve(l, handler(quit))
	fmt.Printf("netbench: serving: sink :%d, source :%d, connect :%d, http :%d\n", sinkPort, sourcePort, connectPort, httpPort)
	select {
	case <-quit:
		// Let the answer to /quit reach the host before the machine
		// goes down.
		time.Sleep(200 * time.Millisecond)
		return 0
	case <-time.After(*limit):
		fmt.Printf("netbench: FAILED: no /quit within -limit %v\n", *limit)
		return 1
	}
}

// acceptLoop serves each connection l accepts on a goroutine of its own.
func acceptLoop(l net.Listener, serve func(net.Conn)) {
	for {
		c, err := l.Accept()
		if err != nil {
			// A transient error (EMFILE, a connection reset before
			// accept) must not end the server.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go func() {
			defer c.Close()
			serve(c)
		}()
	}
}

// sink reads until EOF or an error, reporting the running count.
func sink(c net.Conn) {
	buf := make([]byte, 64<<10)
	var n int64
	last := time.Now()
	for {
		k, err := c.Read(buf)
		n += int64(k)
		if now := time.Now(); err != nil || now.Sub(last) >= reportEvery {
			if _, werr := fmt.Fprintf(c, "%d\n", n); werr != nil {
				return
			}
			last = now
		}
		if err != nil {
			return
		}
	}
}

// source writes until the peer goes away. The bytes are not all zero,
// so nothing on the way can compress them away.
func source(c net.Conn) {
	buf := make([]byte, 64<<10)
	for i := range buf {
		buf[i] = byte(i*31) ^ byte(i>>9)
	}
	for {
		if _, err := c.Write(buf); err != nil {
			return
		}
	}
}

// greet writes one byte; the caller closes.
func greet(c net.Conn) {
	c.Write([]byte{'+'})
}

// handler serves GET / and GET /quit; quit is closed on the latter.
func handler(quit chan struct{}) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, httpBody)
	})
	var once sync.Once
	mux.HandleFunc("GET /quit", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "bye\n")
		once.Do(func() { close(quit) })
	})
	return mux
}

// sysname is "valence" or "linux", from uname(2).
func sysname() string {
	var u unix.Utsname
	if unix.Uname(&u) == nil && unix.ByteSliceToString(u.Sysname[:]) == "Valence" {
		return "valence"
	}
	return "linux"
}
