package fileproto

import (
	"strings"
	"testing"

	"valence.dev/ipc"
	"valence.dev/ipc/codec"
)

// TestLimitsFit checks that the largest requests and replies the limits
// allow fit in one message.
func TestLimitsFit(t *testing.T) {
	name := strings.Repeat("n", MaxNameLen)
	ents := []Dirent{}
	for range (ipc.MaxData - 64) / (len(name) + 24) {
		ents = append(ents, Dirent{Ino: ^uint64(0), Off: 1 << 62, Type: DT_REG, Name: name})
	}
	groups := make([]uint32, MaxGroups)
	for i := range groups {
		groups[i] = ^uint32(0)
	}
	cases := map[string]any{
		"read reply":     &ReadReply{N: MaxInline, Data: make([]byte, MaxInline)},
		"write request":  &WriteRequest{Fid: ^uint32(0), Off: 1 << 62, Data: make([]byte, MaxInline), Buf: 1, BufOff: 1 << 40, Len: MaxInline},
		"getdents reply": &GetdentsReply{Entries: ents, End: true},
		"open with a long path and all groups": &OpenRequest{
			Cred: Cred{Uid: 1, Gid: 1, Groups: groups}, At: At{Dir: 1, Path: strings.Repeat("p", MaxPathLen-MaxGroups*5-64)},
			Flags: ^uint32(0), Mode: ^uint32(0),
		},
	}
	for name, v := range cases {
		var m ipc.Message
		if err := codec.Marshal(v, &m); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestProtocol(t *testing.T) {
	ms := Protocol.Methods()
	if len(ms) != 25 {
		t.Errorf("%d methods, want 25", len(ms))
	}
	for i, m := range ms {
		if m.Label != uint64(i+1) {
			t.Errorf("method %s has label %d, want %d", m.Name, m.Label, i+1)
		}
	}
}
