package rt

import (
	"unsafe"

	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/console"
)

// Address helpers for boot and trap code, which deals in raw addresses of
// static kernel data and of memory the runtime hands to system calls.

// pointer reinterprets a kernel address as a pointer (see mm.pointer).
func pointer(va uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&va)) }

func addrOfWords(s []uint64) uintptr     { return uintptr(unsafe.Pointer(&s[0])) }
func addrOfUintptrs(s []uintptr) uintptr { return uintptr(unsafe.Pointer(&s[0])) }
func addrOfTSS(t *amd64.TSS) uintptr     { return uintptr(unsafe.Pointer(t)) }
func addrOfGDT(g *amd64.GDT) uintptr     { return uintptr(unsafe.Pointer(g)) }
func addrOfIDT(t *amd64.IDT) uintptr     { return uintptr(unsafe.Pointer(t)) }
func addrOfU32(p *uint32) uintptr        { return uintptr(unsafe.Pointer(p)) }
func addrOfBytes(b []byte) uintptr       { return uintptr(unsafe.Pointer(&b[0])) }
func byteAt(va uintptr) byte             { return *(*byte)(pointer(va)) }
func frameAt(va uintptr) *amd64.Frame    { return (*amd64.Frame)(pointer(va)) }
func fxAt(va uintptr) *amd64.FXState     { return (*amd64.FXState)(pointer(va)) }
func u64At(va uintptr) *uint64           { return (*uint64)(pointer(va)) }
func u32At(va uintptr) *uint32           { return (*uint32)(pointer(va)) }
func bytesAt(va uintptr, n int) []byte   { return unsafe.Slice((*byte)(pointer(va)), n) }

func u64slice(va uintptr, n int) []uint64 { return unsafe.Slice((*uint64)(pointer(va)), n) }

func consoleSeqAddr() uintptr { return uintptr(unsafe.Pointer(&console.RxSeq)) }

func addrOfUserContext(u *UserContext) uintptr { return uintptr(unsafe.Pointer(u)) }
