package mountproto

import (
	"strings"
	"testing"

	"valence.dev/ipc"
	"valence.dev/ipc/codec"
)

// TestLimitsFit checks that the largest request the limits allow fits
// in one message, and that the reply does.
func TestLimitsFit(t *testing.T) {
	cases := map[string]any{
		"mount request": &MountRequest{
			Source: strings.Repeat("s", MaxSource), FSType: strings.Repeat("t", MaxFSType),
			Flags: ^uint64(0), Data: strings.Repeat("d", MaxData), Uid: ^uint32(0),
		},
		"mount reply": &MountReply{ID: ^uint64(0), Server: 1, Source: strings.Repeat("s", MaxSource)},
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
	if len(ms) != 2 {
		t.Errorf("%d methods, want 2", len(ms))
	}
	for i, m := range ms {
		if m.Label != uint64(i+1) {
			t.Errorf("method %s has label %d, want %d", m.Name, m.Label, i+1)
		}
	}
}
