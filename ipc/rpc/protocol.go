package rpc

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"

	"valence.dev/ipc/codec"
)

// A Method is one call of a protocol: its label (the message's Label on
// the wire), its name, and in its type parameters the Go types of its
// request and reply. A protocol package declares each method once, as a
// package-level variable; the client calls it with Call and the server
// implements it with Handle, so the two cannot disagree about types.
type Method[Req, Rep any] struct {
	Label uint64
	Name  string
}

// Def describes m for NewProtocol.
func (m Method[Req, Rep]) Def() MethodDef {
	return MethodDef{
		Label:   m.Label,
		Name:    m.Name,
		Request: reflect.TypeFor[Req](),
		Reply:   reflect.TypeFor[Rep](),
	}
}

// MethodDef is a method without its type parameters, as a Protocol lists
// it.
type MethodDef struct {
	Label          uint64
	Name           string
	Request, Reply reflect.Type
}

// A Protocol is the set of methods one kind of server implements.
type Protocol struct {
	Name    string
	methods []MethodDef // sorted by label
}

// NewProtocol defines a protocol. It is meant for package initialisation
// and panics on a programmer error: an empty name, two methods with the
// same label or name, or a request or reply type the codec cannot carry.
func NewProtocol(name string, methods ...MethodDef) *Protocol {
	if name == "" {
		panic("rpc: NewProtocol: empty protocol name")
	}
	p := &Protocol{Name: name, methods: slices.Clone(methods)}
	slices.SortFunc(p.methods, func(a, b MethodDef) int { return cmp.Compare(a.Label, b.Label) })
	names := make(map[string]bool)
	for i, m := range p.methods {
		if m.Name == "" {
			panic(fmt.Sprintf("rpc: protocol %s: method with label %d has no name", name, m.Label))
		}
		if names[m.Name] {
			panic(fmt.Sprintf("rpc: protocol %s: two methods named %s", name, m.Name))
		}
		names[m.Name] = true
		if i > 0 && p.methods[i-1].Label == m.Label {
			panic(fmt.Sprintf("rpc: protocol %s: methods %s and %s share label %d",
				name, p.methods[i-1].Name, m.Name, m.Label))
		}
		for _, t := range []reflect.Type{m.Request, m.Reply} {
			if err := codec.Check(t); err != nil {
				panic(fmt.Sprintf("rpc: protocol %s: method %s: %v", name, m.Name, err))
			}
		}
	}
	return p
}

// Methods returns the protocol's methods in label order.
func (p *Protocol) Methods() []MethodDef { return slices.Clone(p.methods) }

// Lookup returns the method with the given label.
func (p *Protocol) Lookup(label uint64) (MethodDef, bool) {
	i, ok := slices.BinarySearchFunc(p.methods, label, func(m MethodDef, l uint64) int {
		return cmp.Compare(m.Label, l)
	})
	if !ok {
		return MethodDef{}, false
	}
	return p.methods[i], true
}
