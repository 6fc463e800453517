package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"valence.dev/userland/init/control"
)

// services are what the test's manifest starts: the built-in manifest's
// (pcid, fsd, netd), the drivers pcid starts for the machine's NVMe disk
// and NIC, and hangd, this program's echo service.
var services = []string{"pcid", "nvmed", "virtio-netd", "fsd", "netd", "hangd"}

func testList() error {
	rows, err := waitFor("every service running", generous, func(rows map[string]row) error {
		if err := running(rows, services...); err != nil {
			return err
		}
		return running(rows, "console")
	})
	if err != nil {
		return err
	}
	if c := rows["console"]; c.PID != os.Getpid() {
		return fmt.Errorf("svc lists the console program as pid %d; this is pid %d", c.PID, os.Getpid())
	}
	for _, d := range []string{"nvmed", "virtio-netd"} {
		if rows[d].By != "pcid" {
			return fmt.Errorf("%s is supervised by %q, want pcid", d, rows[d].By)
		}
	}
	for _, n := range services {
		if rows[n].Restarts != 0 {
			return fmt.Errorf("%s restarted %d times before anything was killed", n, rows[n].Restarts)
		}
	}
	return nil
}

// testKillNetd: netd killed with SIGKILL (through svc: a program cannot
// signal its sibling; init, the first process, can) is started again with
// a new pid, svc counts the restart and says how it ended, and the new
// netd serves sockets.
func testKillNetd() error {
	rows, _, err := list()
	if err != nil {
		return err
	}
	old := rows["netd"]
	if out, code := svc("kill", "netd", "KILL"); code != 0 {
		return fmt.Errorf("svc kill netd KILL: status %d: %s", code, out)
	}
	rows, err = waitFor("netd restarted", generous, func(rows map[string]row) error {
		r := rows["netd"]
		if r.State != "running" || r.PID == old.PID || r.Restarts != old.Restarts+1 {
			return fmt.Errorf("netd is %+v; was %+v", r, old)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if r := rows["netd"]; r.LastExit != "killed by SIGKILL" {
		return fmt.Errorf("netd's last exit is %q, want killed by SIGKILL", r.LastExit)
	}
	return loopback()
}

// loopback sends a message over TCP on 127.0.0.1, through netd.
func loopback() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listening through netd: %w", err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			io.Copy(c, c)
			c.Close()
		}
	}()
	c, err := net.DialTimeout("tcp", l.Addr().String(), 30*time.Second)
	if err != nil {
		return fmt.Errorf("dialing through netd: %w", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	msg := []byte("through the restarted netd")
	if _, err := c.Write(msg); err != nil {
		return err
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
		return fmt.Errorf("echo over the loopback: %q, %v", got, err)
	}
	return nil
}

// testHang: hangd stops answering (SIGUSR1); init's heartbeat (every 1s,
// deadline 5s in the test's manifest) finds it, kills it and restarts it.
func testHang() error {
	rows, _, err := list()
	if err != nil {
		return err
	}
	old := rows["hangd"]
	t0 := time.Now()
	if out, code := svc("kill", "hangd", "USR1"); code != 0 {
		return fmt.Errorf("svc kill hangd USR1: status %d: %s", code, out)
	}
	rows, err = waitFor("hangd restarted after its missed heartbeat", generous, func(rows map[string]row) error {
		r := rows["hangd"]
		if r.State != "running" || r.PID == old.PID || r.Restarts != old.Restarts+1 {
			return fmt.Errorf("hangd is %+v; was %+v", r, old)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if took := time.Since(t0); took < 4*time.Second {
		return fmt.Errorf("hangd was replaced %v after it hung, before its 5s deadline could pass", took)
	}
	if r := rows["hangd"]; r.LastExit != "killed by SIGKILL (missed its heartbeat)" {
		return fmt.Errorf("hangd's last exit is %q", r.LastExit)
	}
	out, code := svc("log", "hangd")
	for _, want := range []string{"answering no more", "missed its heartbeat: no answer to Echo within 5s", "restart 1 in"} {
		if code != 0 || !strings.Contains(out, want) {
			return fmt.Errorf("svc log hangd (status %d) lacks %q", code, want)
		}
	}
	return nil
}

// testStopStart: svc stop keeps a service stopped (no restart), svc
// start and restart bring it back with a new process.
func testStopStart() error {
	rows, _, err := list()
	if err != nil {
		return err
	}
	before := rows["hangd"]
	if out, code := svc("stop", "hangd"); code != 0 || !strings.Contains(out, "hangd: stopped") {
		return fmt.Errorf("svc stop hangd: status %d", code)
	}
	time.Sleep(3 * time.Second) // long enough for a restart, were one to come
	rows, _, err = list()
	if err != nil {
		return err
	}
	if r := rows["hangd"]; r.State != "stopped" || r.PID != 0 || r.Restarts != before.Restarts {
		return fmt.Errorf("after svc stop, hangd is %+v", r)
	}
	if out, code := svc("start", "hangd"); code != 0 || !strings.Contains(out, "hangd: running") {
		return fmt.Errorf("svc start hangd: status %d", code)
	}
	rows, _, err = list()
	if err != nil {
		return err
	}
	started := rows["hangd"]
	if started.PID == 0 || started.PID == before.PID {
		return fmt.Errorf("after svc start, hangd is %+v (was %+v)", started, before)
	}
	if out, code := svc("restart", "hangd"); code != 0 || !strings.Contains(out, "hangd: running") {
		return fmt.Errorf("svc restart hangd: status %d: %s", code, out)
	}
	rows, _, err = list()
	if err != nil {
		return err
	}
	if r := rows["hangd"]; r.PID == started.PID || r.State != "running" || r.Restarts != before.Restarts {
		return fmt.Errorf("after svc restart, hangd is %+v (was %+v); restarts by svc are not failures", r, started)
	}
	return nil
}

// testRefusals: what svc must refuse, with a reason and status 1 (2 for
// a usage error).
func testRefusals() error {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"stop", "nvmed"}, 1, "pcid restarts its drivers"},
		{[]string{"stop", "nosuch"}, 1, `no service "nosuch"`},
		{[]string{"log", "nosuch"}, 1, `no service "nosuch"`},
		{[]string{"stop", "console"}, 1, "its exit powers the machine off"},
		{[]string{"start", "fsd"}, 1, "fsd is running"},
		{[]string{"kill", "hangd", "0"}, 2, "outside 1-64"},
		{[]string{"frob"}, 2, "unknown command"},
	}
	for _, c := range cases {
		out, code := svc(c.args...)
		if code != c.code || !strings.Contains(out, c.want) {
			return fmt.Errorf("svc %s: status %d, want %d with %q", strings.Join(c.args, " "), code, c.code, c.want)
		}
	}
	return nil
}

// testKillDriver: virtio-netd killed; pcid restarts it, and netd, whose
// device went away, ends and is restarted by init on the new driver; svc
// shows both restarts and the network works again.
func testKillDriver() error {
	rows, _, err := list()
	if err != nil {
		return err
	}
	drv, netd := rows["virtio-netd"], rows["netd"]
	if out, code := svc("kill", "virtio-netd", "KILL"); code != 0 {
		return fmt.Errorf("svc kill virtio-netd KILL: status %d: %s", code, out)
	}
	_, err = waitFor("virtio-netd and netd restarted", generous, func(rows map[string]row) error {
		d, n := rows["virtio-netd"], rows["netd"]
		switch {
		case d.State != "running" || d.PID == drv.PID || d.Restarts < drv.Restarts+1:
			return fmt.Errorf("virtio-netd is %+v; was %+v", d, drv)
		case n.State != "running" || n.PID == netd.PID || n.Restarts < netd.Restarts+1:
			return fmt.Errorf("netd is %+v; was %+v", n, netd)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if out, code := svc("log", "virtio-netd"); code != 0 || !strings.Contains(out, "exited: killed by SIGKILL") {
		return fmt.Errorf("svc log virtio-netd (status %d) lacks pcid's line about its death", code)
	}
	return loopback()
}

// testHostileControl sends init's control socket what no svc would, and
// checks each answer; svc works afterwards.
func testHostileControl() error {
	frame := func(payload ...byte) []byte {
		return append(binary.LittleEndian.AppendUint32(nil, uint32(len(payload))), payload...)
	}
	encoded := func(r control.Request) []byte {
		var b bytes.Buffer
		control.WriteFrame(&b, &r)
		return b.Bytes()
	}
	cases := []struct {
		name  string
		send  []byte
		errno syscall.Errno
	}{
		{"a 4 GiB length", []byte{0xff, 0xff, 0xff, 0xff}, syscall.EINVAL},
		{"one byte past the bound", binary.LittleEndian.AppendUint32(nil, control.MaxFrame+1), syscall.EINVAL},
		{"another version", frame(2, 1, 0, 0, 0, 0, 0), syscall.EPROTONOSUPPORT},
		{"a short payload", frame(control.Version, 1), syscall.EINVAL},
		{"trailing bytes", frame(control.Version, 1, 0, 0, 0, 0, 0, 0xee), syscall.EINVAL},
		{"an unknown operation", encoded(control.Request{Version: control.Version, Op: 77}), syscall.EINVAL},
		{"kill without a signal", encoded(control.Request{Version: control.Version, Op: control.OpKill, Name: "netd"}), syscall.EINVAL},
		{"stop without a name", encoded(control.Request{Version: control.Version, Op: control.OpStop}), syscall.EINVAL},
		{"a name longer than its frame", frame(append([]byte{control.Version, byte(control.OpStop), 0xe0, 0xd4, 0x03}, bytes.Repeat([]byte{'x'}, 100)...)...), syscall.EINVAL},
	}
	for _, c := range cases {
		conn, err := net.Dial("unix", control.SocketName)
		if err != nil {
			return fmt.Errorf("%s: %v", c.name, err)
		}
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		conn.Write(c.send)
		var rep control.Reply
		err = control.ReadFrame(conn, &rep)
		conn.Close()
		if err != nil || syscall.Errno(rep.Errno) != c.errno {
			return fmt.Errorf("%s: answered %v (%q), %v; want %v", c.name, syscall.Errno(rep.Errno), rep.Message, err, c.errno)
		}
	}
	// Idle connections fill init's slots; once they close, svc works.
	var idle []net.Conn
	for range 16 {
		if c, err := net.Dial("unix", control.SocketName); err == nil {
			idle = append(idle, c)
		}
	}
	for _, c := range idle {
		c.Close()
	}
	_, err := waitFor("svc answering after the hostile connections", generous, func(rows map[string]row) error {
		return running(rows, services...)
	})
	return err
}
