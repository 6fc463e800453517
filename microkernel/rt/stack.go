package rt

import (
	"gvisor.dev/gvisor/pkg/abi/linux"

	"valence.dev/microkernel/multiboot"
)

// The Go runtime starts the way Linux starts a process (System V AMD64 ABI
// §3.4.1, "Initial Process Stack"): RSP points at argc, then the argv
// pointers and a null, the envp pointers and a null, and the auxiliary
// vector. The runtime keeps pointers to the argument and environment
// strings for ever (os.Args, os.Getenv), so they live in bss, not on the
// stack.

const (
	maxArgs    = 32
	argsBufLen = 4096
)

var (
	argStrings [argsBufLen]byte
	argUsed    int
)

// addString copies s (NUL-terminated) into argStrings and returns its
// address, or 0 when full.
func addString(s []byte) uint64 {
	if argUsed+len(s)+1 > len(argStrings) {
		return 0
	}
	p := addrOfBytes(argStrings[:]) + uintptr(argUsed)
	copy(argStrings[argUsed:], s)
	argStrings[argUsed+len(s)] = 0
	argUsed += len(s) + 1
	return uint64(p)
}

// defaultEnv is the kernel runtime's environment unless the command line
// overrides a variable: GOTRACEBACK=crash makes a fatal error print every
// goroutine and the registers, which is what a kernel panic should show.
var defaultEnv = [...]string{"GOTRACEBACK=crash"}

// buildRuntimeStack lays out argc/argv/envp/auxv at the top of the boot
// stack and points runtimeSP at it. argv is the kernel command line split at
// spaces (the first word, from QEMU, is the kernel's path); words of the form
// GO...=value also go into the environment, so GODEBUG and GOGC can be set
// from the command line.
func buildRuntimeStack() {
	var words [maxArgs][]byte
	n := multiboot.CmdlineArgs(mbInfo.Cmdline, words[:])
	var argv, envp [maxArgs]uint64
	argc, envc := 0, 0
	if n == 0 {
		argv[0] = addString([]byte("valence"))
		argc = 1
	}
	for i := 0; i < n && argc < maxArgs-1; i++ {
		argv[argc] = addString(words[i])
		argc++
	}
	for _, e := range defaultEnv {
		if !cmdlineSets(words[:n], e) {
			envp[envc] = addString([]byte(e))
			envc++
		}
	}
	for i := 0; i < n && envc < maxArgs-1; i++ {
		if isGoEnv(words[i]) {
			envp[envc] = addString(words[i])
			envc++
		}
	}
	auxv := [...]uint64{
		linux.AT_PAGESZ, 4096,
		linux.AT_RANDOM, uint64(addrOfBytes(atRandom[:])),
		linux.AT_SECURE, 0,
		linux.AT_UID, 0, linux.AT_EUID, 0, linux.AT_GID, 0, linux.AT_EGID, 0,
		linux.AT_NULL, 0,
	}
	// Words needed: argc, argv..., 0, envp..., 0, auxv.
	total := 1 + argc + 1 + envc + 1 + len(auxv)
	top := addrOfWords(bootStack[:]) + uintptr(len(bootStack)*8)
	sp := (top - uintptr(total*8) - 64) &^ 15
	w := u64slice(sp, total)
	k := 0
	w[k] = uint64(argc)
	k++
	for i := 0; i < argc; i++ {
		w[k] = argv[i]
		k++
	}
	w[k] = 0
	k++
	for i := 0; i < envc; i++ {
		w[k] = envp[i]
		k++
	}
	w[k] = 0
	k++
	for _, v := range auxv {
		w[k] = v
		k++
	}
	runtimeSP = sp
}

func isGoEnv(w []byte) bool {
	if len(w) < 4 || w[0] != 'G' || w[1] != 'O' {
		return false
	}
	for _, c := range w {
		if c == '=' {
			return true
		}
	}
	return false
}

// cmdlineSets reports whether a command-line word sets the same variable as
// the NAME=value string e.
func cmdlineSets(words [][]byte, e string) bool {
	eq := 0
	for eq < len(e) && e[eq] != '=' {
		eq++
	}
	for _, w := range words {
		if len(w) > eq && w[eq] == '=' && string(w[:eq]) == e[:eq] {
			return true
		}
	}
	return false
}
