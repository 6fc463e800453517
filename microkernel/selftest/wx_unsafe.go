package selftest

import (
	"fmt"
	"runtime/debug"
	"unsafe"

	"valence.dev/microkernel/mm"
)

// wxCode is data that would be a harmless function (RET) if it could run.
var wxCode = [16]byte{0xc3}

// wxVictim is never called; wx tries to overwrite its first instruction.
//
//go:noinline
func wxVictim() int { return 42 }

// wxString is read-only data; wx tries to overwrite its first byte.
const wxString = "valence: read-only data"

// wx checks that the kernel image is mapped W^X (mm.protectImage): writing
// to code, writing to read-only data, writing to code through its direct
// map alias, and running data all fault, at the address tried. Each fault
// becomes a recoverable panic with debug.SetPanicOnFault.
func wx() error {
	victim := wxVictim
	code := *(*unsafe.Pointer)(*(*unsafe.Pointer)(unsafe.Pointer(&victim))) // the funcval's code pointer
	alias := unsafe.Add(code, int(directMapOffset()))
	ro := unsafe.Pointer(unsafe.StringData(wxString))
	data := unsafe.Pointer(&wxCode)
	fv := &data // a funcval whose code pointer is the data
	run := *(*func())(unsafe.Pointer(&fv))
	for _, c := range []struct {
		what string
		addr unsafe.Pointer
		do   func()
	}{
		{"writing kernel code", code, func() { *(*byte)(code) = 0xcc }},
		{"writing kernel read-only data", ro, func() { *(*byte)(ro) = 'x' }},
		{"writing kernel code through the direct map", alias, func() { *(*byte)(alias) = 0xcc }},
		{"running kernel data", data, run},
	} {
		if err := expectFault(c.what, c.addr, c.do); err != nil {
			return err
		}
	}
	if wxVictim() != 42 {
		return fmt.Errorf("kernel code changed")
	}
	return nil
}

// directMapOffset is the distance from an address in the kernel image to
// its alias in the direct map, computed at run time so that it wraps.
func directMapOffset() uintptr {
	base, kern := uintptr(mm.DirectMapBase), uintptr(mm.KernelBase)
	return base - kern
}

// expectFault runs do and requires it to fault at addr.
func expectFault(what string, addr unsafe.Pointer, do func()) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		r := recover()
		fault, ok := r.(interface{ Addr() uintptr })
		switch {
		case r == nil:
			err = fmt.Errorf("%s at %p did not fault", what, addr)
		case !ok:
			panic(r)
		case fault.Addr() != uintptr(addr):
			err = fmt.Errorf("%s at %p faulted at %#x instead", what, addr, fault.Addr())
		}
	}()
	do()
	return nil
}
