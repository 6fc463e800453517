package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// The unix-* tests: AF_UNIX sockets, which the kernel serves itself
// (docs/net.md, "AF_UNIX"), as Go's net package and plain system calls
// use them. They need no network, and run on Linux too.

// unixDir is a fresh directory for socket nodes, on the root filesystem
// (/tmp when the root is writable).
func unixDir() (string, error) {
	if err := os.MkdirAll("/tmp", 0o1777); err != nil {
		return "", err
	}
	return os.MkdirTemp("/tmp", "unix")
}

// testUnixStream: a pathname listener, its socket node (S_IFSOCK, in the
// directory listing as a socket), echo through it, the names each side
// sees, and the errors of dialing a name that is gone or stale.
func testUnixStream() error {
	dir, err := unixDir()
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "echo.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("stat of the bound path: %v, %v; want a socket", fi, err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Type()&os.ModeSocket == 0 {
		return fmt.Errorf("the directory lists %v, want one socket", ents)
	}
	if _, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"}); !errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("second listen on the path: %v, want EADDRINUSE", err)
	}
	done := make(chan error, 1)
	go func() {
		c, err := l.AcceptUnix()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		_, err = io.Copy(c, c)
		done <- err
	}()
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	if got := c.RemoteAddr().String(); got != path {
		return fmt.Errorf("RemoteAddr = %q, want %q", got, path)
	}
	msg := bytes.Repeat([]byte("unix stream "), 20000) // 240 KB: more than a socket buffer
	go c.Write(msg)
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
		return fmt.Errorf("echo: %v (equal %v)", err, bytes.Equal(got, msg))
	}
	c.CloseWrite()
	if n, err := c.Read(got); n != 0 || err != io.EOF {
		return fmt.Errorf("read after the echo ended: %d, %v; want EOF", n, err)
	}
	if err := <-done; err != nil {
		return fmt.Errorf("echo server: %w", err)
	}
	c.Close()
	l.Close() // Go unlinks the path
	if _, err := net.Dial("unix", path); !errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("dial after close: %v, want ENOENT", err)
	}
	// A stale node: bound, then closed without unlinking.
	stale := filepath.Join(dir, "stale.sock")
	fd, _ := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: stale}); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	syscall.Close(fd)
	if _, err := net.Dial("unix", stale); !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("dial a stale node: %v, want ECONNREFUSED", err)
	}
	if err := os.Remove(stale); err != nil {
		return fmt.Errorf("unlink the stale node: %w", err)
	}
	// A regular file is no socket.
	plain := filepath.Join(dir, "plain")
	os.WriteFile(plain, nil, 0o644)
	if _, err := net.Dial("unix", plain); !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("dial a regular file: %v, want ECONNREFUSED", err)
	}
	return nil
}

// testUnixGram: datagrams keep their boundaries and say who sent them;
// an autobound socket has a five-hex-digit abstract name.
func testUnixGram() error {
	dir, err := unixDir()
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	srvPath := filepath.Join(dir, "gram.sock")
	srv, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: srvPath, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer srv.Close()
	cliPath := filepath.Join(dir, "client.sock")
	cl, err := net.DialUnix("unixgram", &net.UnixAddr{Name: cliPath, Net: "unixgram"}, &net.UnixAddr{Name: srvPath, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer cl.Close()
	for _, m := range []string{"one", "", "three!"} {
		if _, err := cl.Write([]byte(m)); err != nil {
			return fmt.Errorf("write %q: %w", m, err)
		}
	}
	buf := make([]byte, 100)
	for _, want := range []string{"one", "", "three!"} {
		n, from, err := srv.ReadFromUnix(buf)
		if err != nil || string(buf[:n]) != want || from.Name != cliPath {
			return fmt.Errorf("ReadFromUnix = %q from %v, %v; want %q from %s", buf[:n], from, err, want, cliPath)
		}
	}
	// A datagram longer than the buffer is cut, and says so.
	cl.Write([]byte("0123456789"))
	n, _, flags, _, err := srv.ReadMsgUnix(buf[:4], nil)
	if err != nil || n != 4 || flags&syscall.MSG_TRUNC == 0 {
		return fmt.Errorf("short read: %d, flags %#x, %v; want 4 and MSG_TRUNC", n, flags, err)
	}
	// Autobind: bind with only the family.
	fd, _ := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM, 0)
	defer syscall.Close(fd)
	fam := []byte{syscall.AF_UNIX, 0}
	if _, e := sys(syscall.SYS_BIND, uintptr(fd), addrOf(fam), 2); e != 0 {
		return fmt.Errorf("autobind: %v", e)
	}
	sa, err := syscall.Getsockname(fd)
	name := sa.(*syscall.SockaddrUnix).Name
	if err != nil || len(name) != 6 || name[0] != '@' || strings.Trim(name[1:], "0123456789abcdef") != "" {
		return fmt.Errorf("autobind name %q, %v; want @ and five hex digits", name, err)
	}
	return nil
}

// testUnixAbstract: abstract names ("@" in Go) and seqpacket boundaries.
func testUnixAbstract() error {
	name := fmt.Sprintf("@valence-test-%d", os.Getpid())
	l, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: name, Net: "unixpacket"})
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer l.Close()
	if _, err := os.Stat(name); err == nil {
		return errors.New("an abstract name made a file")
	}
	go func() {
		c, err := l.AcceptUnix()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 100)
		for {
			n, err := c.Read(buf)
			if err != nil || n == 0 {
				return
			}
			c.Write(buf[:n])
		}
	}()
	c, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: name, Net: "unixpacket"})
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	buf := make([]byte, 100)
	for _, m := range []string{"a", "bb", "ccc"} {
		c.Write([]byte(m))
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != m {
			return fmt.Errorf("seqpacket echo %q: %q, %v", m, buf[:n], err)
		}
	}
	return nil
}

// testUnixRights: an *os.File passed over a socketpair arrives as a new
// descriptor of the same open file; credentials with SO_PASSCRED and
// SO_PEERCRED name this process; a control buffer too short is
// MSG_CTRUNC.
func testUnixRights() error {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socketpair: %w", err)
	}
	fa, fb := os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b")
	ca, _ := net.FileConn(fa)
	cb, _ := net.FileConn(fb)
	fa.Close()
	fb.Close()
	a, b := ca.(*net.UnixConn), cb.(*net.UnixConn)
	defer a.Close()
	defer b.Close()
	r, w, _ := os.Pipe()
	defer r.Close()
	if _, _, err := a.WriteMsgUnix([]byte("pipe"), syscall.UnixRights(int(w.Fd())), nil); err != nil {
		return fmt.Errorf("WriteMsgUnix: %w", err)
	}
	w.Close()
	buf, oob := make([]byte, 16), make([]byte, 64)
	n, oobn, flags, _, err := b.ReadMsgUnix(buf, oob)
	if err != nil || string(buf[:n]) != "pipe" || flags&syscall.MSG_CTRUNC != 0 {
		return fmt.Errorf("ReadMsgUnix: %q, flags %#x, %v", buf[:n], flags, err)
	}
	msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return fmt.Errorf("control messages: %v, %v", msgs, err)
	}
	got, err := syscall.ParseUnixRights(&msgs[0])
	if err != nil || len(got) != 1 {
		return fmt.Errorf("rights: %v, %v", got, err)
	}
	passed := os.NewFile(uintptr(got[0]), "passed")
	passed.Write([]byte("through the socket"))
	passed.Close()
	out, _ := io.ReadAll(r)
	if string(out) != "through the socket" {
		return fmt.Errorf("the pipe read %q through the passed descriptor", out)
	}
	// Too little room: the descriptors are closed, MSG_CTRUNC says so.
	r2, w2, _ := os.Pipe()
	defer r2.Close()
	a.WriteMsgUnix([]byte("x"), syscall.UnixRights(int(w2.Fd()), int(w2.Fd())), nil)
	w2.Close()
	n, oobn, flags, _, err = b.ReadMsgUnix(buf, oob[:syscall.CmsgLen(4)])
	if err != nil || flags&syscall.MSG_CTRUNC == 0 {
		return fmt.Errorf("short control buffer: flags %#x, %v; want MSG_CTRUNC", flags, err)
	}
	if msgs, _ := syscall.ParseSocketControlMessage(oob[:oobn]); len(msgs) == 1 {
		if fds, _ := syscall.ParseUnixRights(&msgs[0]); len(fds) == 1 {
			syscall.Close(fds[0])
		}
	}
	r2.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := r2.Read(buf); n != 0 || err != io.EOF {
		return fmt.Errorf("the pipe's write end lives on after the truncated receive: %d, %v", n, err)
	}
	// Credentials.
	rawB, _ := b.SyscallConn()
	var credErr error
	rawB.Control(func(fd uintptr) {
		credErr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_PASSCRED, 1)
		if credErr == nil {
			var uc *syscall.Ucred
			uc, credErr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
			if credErr == nil && int(uc.Pid) != os.Getpid() {
				credErr = fmt.Errorf("SO_PEERCRED pid %d, want %d", uc.Pid, os.Getpid())
			}
		}
	})
	if credErr != nil {
		return credErr
	}
	a.WriteMsgUnix([]byte("cred"), nil, nil)
	n, oobn, _, _, err = b.ReadMsgUnix(buf, oob)
	if err != nil {
		return err
	}
	msgs, _ = syscall.ParseSocketControlMessage(oob[:oobn])
	if len(msgs) != 1 {
		return fmt.Errorf("%d control messages with SO_PASSCRED, want 1", len(msgs))
	}
	uc, err := syscall.ParseUnixCredentials(&msgs[0])
	if err != nil || int(uc.Pid) != os.Getpid() {
		return fmt.Errorf("SCM_CREDENTIALS %+v, %v; want pid %d", uc, err, os.Getpid())
	}
	return nil
}

// testUnixHTTP: net/http over a unix socket.
func testUnixHTTP() error {
	dir, err := unixDir()
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "http.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.URL.Path)
	})}
	go srv.Serve(l)
	defer srv.Close()
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		},
	}}
	for i := range 20 {
		resp, err := client.Get(fmt.Sprintf("http://unix/%d", i))
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := fmt.Sprintf("hello /%d", i); string(body) != want {
			return fmt.Errorf("GET /%d: %q, want %q", i, body, want)
		}
	}
	return nil
}
