package rt

import "gvisor.dev/gvisor/pkg/abi/linux"

func utsnameAt(a uint64) *linux.UtsName { return (*linux.UtsName)(pointer(uintptr(a))) }
