package rpc_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"valence.dev/ipc/rpc"
	"valence.dev/ipc/rpc/echoproto"
)

// panicOf runs f and returns what it panicked with, as a string.
func panicOf(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = r.(string)
		}
	}()
	f()
	return ""
}

type ping struct{ N int32 }

func TestNewProtocolPanics(t *testing.T) {
	a := rpc.Method[ping, ping]{Label: 1, Name: "A"}
	b := rpc.Method[ping, ping]{Label: 2, Name: "B"}
	tests := []struct {
		name    string
		proto   string
		methods []rpc.MethodDef
		wantIn  string // "" means no panic
	}{
		{"fine", "p", []rpc.MethodDef{a.Def(), b.Def()}, ""},
		{"no methods", "p", nil, ""},
		{"empty name", "", []rpc.MethodDef{a.Def()}, "empty protocol name"},
		{"duplicate label", "p", []rpc.MethodDef{a.Def(), rpc.Method[ping, ping]{Label: 1, Name: "C"}.Def()}, "share label 1"},
		{"duplicate name", "p", []rpc.MethodDef{a.Def(), rpc.Method[ping, ping]{Label: 3, Name: "A"}.Def()}, "two methods named A"},
		{"unnamed method", "p", []rpc.MethodDef{rpc.Method[ping, ping]{Label: 3}.Def()}, "has no name"},
		{"unsupported request", "p", []rpc.MethodDef{rpc.Method[map[string]int, ping]{Label: 3, Name: "M"}.Def()}, "method M: codec: unsupported type"},
		{"unsupported reply", "p", []rpc.MethodDef{rpc.Method[ping, struct{ F func() }]{Label: 3, Name: "F"}.Def()}, "method F: codec: unsupported type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := panicOf(func() { rpc.NewProtocol(tt.proto, tt.methods...) })
			if tt.wantIn == "" && got != "" || !strings.Contains(got, tt.wantIn) {
				t.Errorf("NewProtocol panicked with %q, want %q", got, tt.wantIn)
			}
		})
	}
}

func TestProtocolLookup(t *testing.T) {
	p := echoproto.Protocol
	var labels []uint64
	for _, m := range p.Methods() {
		labels = append(labels, m.Label)
	}
	if diff := cmp.Diff([]uint64{1, 2, 3, 4}, labels); diff != "" {
		t.Errorf("Methods labels (-want +got):\n%s", diff)
	}
	m, ok := p.Lookup(echoproto.PassHandle.Label)
	if !ok || m.Name != "PassHandle" || m.Request != reflect.TypeFor[echoproto.HandleRequest]() {
		t.Errorf("Lookup(PassHandle) = %+v, %v", m, ok)
	}
	if _, ok := p.Lookup(99); ok {
		t.Errorf("Lookup(99) found a method")
	}
}

func TestHandlePanics(t *testing.T) {
	echo := func(ctx context.Context, badge uint64, s string) (string, error) { return s, nil }
	tests := []struct {
		name     string
		register func(s *rpc.Server)
		wantIn   string
	}{
		{"fine", func(s *rpc.Server) { rpc.Handle(s, echoproto.Echo, echo) }, ""},
		{"not in protocol", func(s *rpc.Server) {
			rpc.Handle(s, rpc.Method[string, string]{Label: 50, Name: "Other"}, echo)
		}, "Other (label 50) is not a method of protocol echo"},
		{"same label, other types", func(s *rpc.Server) {
			rpc.Handle(s, rpc.Method[string, string]{Label: echoproto.Add.Label, Name: "Add"}, echo)
		}, "not a method"},
		{"same label, other name", func(s *rpc.Server) {
			rpc.Handle(s, rpc.Method[string, string]{Label: echoproto.Echo.Label, Name: "Shout"}, echo)
		}, "not a method"},
		{"twice", func(s *rpc.Server) {
			rpc.Handle(s, echoproto.Echo, echo)
			rpc.Handle(s, echoproto.Echo, echo)
		}, "echo.Echo registered twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := panicOf(func() { tt.register(rpc.NewServer(echoproto.Protocol)) })
			if tt.wantIn == "" && got != "" || !strings.Contains(got, tt.wantIn) {
				t.Errorf("Handle panicked with %q, want %q", got, tt.wantIn)
			}
		})
	}
}
