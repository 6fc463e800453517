package unixsock

import (
	"encoding/binary"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

func optInt(v int32) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }

// TestOptions: getsockopt after setsockopt, as Linux answers for a unix
// socket.
func TestOptions(t *testing.T) {
	tests := []struct {
		name    string
		level   int32
		opt     int32
		set     []byte // nil: only read
		setErr  errno.Errno
		want    []byte
		wantErr errno.Errno
	}{
		{name: "SO_TYPE", level: linux.SOL_SOCKET, opt: linux.SO_TYPE, want: optInt(int32(linux.SOCK_SEQPACKET))},
		{name: "SO_DOMAIN", level: linux.SOL_SOCKET, opt: linux.SO_DOMAIN, want: optInt(linux.AF_UNIX)},
		{name: "SO_PROTOCOL", level: linux.SOL_SOCKET, opt: linux.SO_PROTOCOL, want: optInt(0)},
		{name: "SO_ACCEPTCONN", level: linux.SOL_SOCKET, opt: linux.SO_ACCEPTCONN, want: optInt(0)},
		{name: "SO_SNDBUF doubled", level: linux.SOL_SOCKET, opt: linux.SO_SNDBUF, set: optInt(10000), want: optInt(20000)},
		{name: "SO_SNDBUF at least the minimum", level: linux.SOL_SOCKET, opt: linux.SO_SNDBUF, set: optInt(1), want: optInt(minBuf)},
		{name: "SO_RCVBUF at most the maximum", level: linux.SOL_SOCKET, opt: linux.SO_RCVBUF, set: optInt(1 << 30), want: optInt(maxBuf)},
		{name: "SO_PASSCRED", level: linux.SOL_SOCKET, opt: linux.SO_PASSCRED, set: optInt(1), want: optInt(1)},
		{name: "SO_REUSEADDR accepted", level: linux.SOL_SOCKET, opt: linux.SO_REUSEADDR, set: optInt(1), want: optInt(0)},
		{name: "short value", level: linux.SOL_SOCKET, opt: linux.SO_SNDBUF, set: []byte{1}, setErr: errno.EINVAL, want: optInt(defaultBuf)},
		{name: "SO_TYPE is read-only", level: linux.SOL_SOCKET, opt: linux.SO_TYPE, set: optInt(1), setErr: errno.ENOPROTOOPT, want: optInt(int32(linux.SOCK_SEQPACKET))},
		{name: "unknown option", level: linux.SOL_SOCKET, opt: 9999, wantErr: errno.ENOPROTOOPT},
		{name: "another level", level: linux.SOL_TCP, opt: 1, set: optInt(1), setErr: errno.EOPNOTSUPP, wantErr: errno.EOPNOTSUPP},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := mustPair(t, newTestDomain(), linux.SOCK_SEQPACKET, Owner{})
			if tc.set != nil {
				if e := a.SetOpt(tc.level, tc.opt, tc.set); e != tc.setErr {
					t.Errorf("SetOpt = %v, want %v", e, tc.setErr)
				}
			}
			got, e := a.GetOpt(tc.level, tc.opt)
			if e != tc.wantErr {
				t.Fatalf("GetOpt = %v, want %v", e, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("GetOpt (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPassCred: with SO_PASSCRED the receiver learns the sender's
// credentials, its own or those it passed; without, nothing.
func TestPassCred(t *testing.T) {
	tests := []struct {
		name     string
		passcred bool
		cred     *Cred
		want     *Cred
	}{
		{"off", false, nil, nil},
		{"on, the sender's own", true, nil, &Cred{PID: 42}},
		{"on, passed explicitly", true, &Cred{PID: 42, UID: 5, GID: 6}, &Cred{PID: 42, UID: 5, GID: 6}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := mustPair(t, newTestDomain(), linux.SOCK_DGRAM, Owner{Cred: Cred{PID: 42}})
			if tc.passcred {
				b.SetOpt(linux.SOL_SOCKET, linux.SO_PASSCRED, optInt(1))
			}
			a.Send(caller(), Message{Data: []byte("c"), Cred: tc.cred}, nil, 0, true)
			r, e := b.Recv(caller(), 10, 0, true)
			if e != 0 {
				t.Fatal(e)
			}
			if diff := cmp.Diff(tc.want, r.Cred); diff != "" {
				t.Errorf("credentials (-want +got):\n%s", diff)
			}
		})
	}
}
