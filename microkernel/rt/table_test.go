package rt

import (
	"testing"
	"unsafe"
)

func TestTableNamesMatchNumbers(t *testing.T) {
	n := 0
	for nr, e := range linuxTable {
		if e.handler == nil {
			if e.name != "" {
				t.Errorf("row %d (%s) has no handler", nr, e.name)
			}
			continue
		}
		n++
		if want := linuxSyscallNames[nr]; e.name != want {
			t.Errorf("row %d is named %q; Linux calls %d %q", nr, e.name, nr, want)
		}
	}
	if n < 40 {
		t.Errorf("only %d rows", n)
	}
	if !tablesStatic() {
		t.Errorf("tablesStatic() = false")
	}
}

// The signal frame must match Linux's layout exactly: the Go runtime reads
// and rewrites it in place (arch/x86/include/uapi/asm/sigcontext.h,
// include/uapi/asm-generic/ucontext.h, arch/x86/include/asm/sigframe.h).
func TestSignalFrameLayout(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof(struct sigcontext)", unsafe.Sizeof(sigcontext{}), 256},
		{"sigcontext.rip", unsafe.Offsetof(sigcontext{}.RIP), 128},
		{"sigcontext.fpstate", unsafe.Offsetof(sigcontext{}.Fpstate), 184},
		{"ucontext.uc_mcontext", unsafe.Offsetof(ucontext{}.MContext), 40},
		{"ucontext.uc_sigmask", unsafe.Offsetof(ucontext{}.Sigmask), 296},
		{"rt_sigframe.uc", unsafe.Offsetof(rtSigframe{}.UC), 8},
		{"rt_sigframe.info", unsafe.Offsetof(rtSigframe{}.Info), 312},
		{"sizeof(struct rt_sigframe)", unsafe.Sizeof(rtSigframe{}), 440},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}

func TestStackStrings(t *testing.T) {
	for _, tc := range []struct {
		word string
		env  bool
	}{{"GODEBUG=x=1", true}, {"GOGC=50", true}, {"GO", false}, {"selftest", false}, {"init=/bin/sh", false}, {"GOX", false}} {
		if got := isGoEnv([]byte(tc.word)); got != tc.env {
			t.Errorf("isGoEnv(%q) = %v", tc.word, got)
		}
	}
	words := [][]byte{[]byte("GOTRACEBACK=all"), []byte("selftest")}
	if !cmdlineSets(words, "GOTRACEBACK=crash") || cmdlineSets(words, "GODEBUG=a") {
		t.Errorf("cmdlineSets is wrong")
	}
	if !lastWordIs([]byte("/build/image/kernel.sym ksym "), "ksym") || lastWordIs([]byte("x initfs"), "ksym") {
		t.Errorf("lastWordIs is wrong")
	}
}
