package rt

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestTrapContextDoesNotAllocate checks the rule doc.go states for trap
// handlers: no heap allocation and no write barrier, because the Go runtime
// may be in any state when they run. It links the kernel, disassembles it,
// and walks the static call graph from the entry points (trap and every
// system call handler), failing if any reachable function calls into the
// allocator or the write barrier. Indirect calls are reported too, since the
// walk cannot follow them; the known one (the system call table, whose
// targets are roots themselves) is allowed.
//
// The boot path (earlyMain) is checked for allocation only: it runs before
// the runtime has started, when write barriers are still disabled, and it
// calls through a few interfaces and function values of its own.
func TestTrapContextDoesNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip("links and disassembles the kernel")
	}
	dir := t.TempDir()
	elf := filepath.Join(dir, "kernel.elf")
	build := exec.Command("go", "build", "-ldflags=-T=-0x7fdff000", "-o", elf, "valence.dev/microkernel")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the kernel: %v\n%s", err, out)
	}
	out, err := exec.Command("go", "tool", "objdump", elf).Output()
	if err != nil {
		t.Fatalf("objdump: %v", err)
	}
	calls, indirect := callGraph(out)

	const rt = "valence.dev/microkernel/rt."
	var roots []string
	for fn := range calls {
		if fn == rt+"trap" || strings.HasPrefix(fn, rt+"sys") && !strings.Contains(fn, ".abi0") {
			roots = append(roots, fn)
		}
	}
	if len(roots) < 20 {
		t.Fatalf("found only %d roots (%v); is the disassembly format as expected?", len(roots), roots)
	}
	const alloc = `mallocgc|newobject|newarray|growslice|makeslice|makeslice64|makemap|mapassign.*|convT.*|concatstring.*|slicebytetostring|stringtoslicebyte|rawstring.*|deferproc.*|newproc.*|chansend.*|chanrecv.*|gopark.*|lock2`
	const barrier = `gcWriteBarrier.*|wbMove|wbZero|typedmemmove|typedmemclr|typedslicecopy`
	trapForbidden := regexp.MustCompile(`^runtime\.(` + alloc + `|` + barrier + `)$`)
	for _, p := range reach(calls, indirect, roots, trapForbidden, map[string]bool{
		rt + "syscall": true, // dispatches through linuxTable/nativeTable; the handlers are roots
	}) {
		t.Errorf("trap context reaches: %s", p)
	}
	bootForbidden := regexp.MustCompile(`^runtime\.(` + alloc + `)$`)
	for _, p := range reach(calls, nil, []string{rt + "earlyMain"}, bootForbidden, nil) {
		t.Errorf("the boot path reaches: %s", p)
	}
}

// reach walks the call graph from roots and returns the call chains that
// end in a forbidden function or, if indirect is non-nil, in an indirect
// call outside allowedIndirect.
func reach(calls map[string][]string, indirect map[string]bool, roots []string, forbidden *regexp.Regexp, allowedIndirect map[string]bool) []string {
	parent := map[string]string{}
	seen := map[string]bool{}
	queue := append([]string(nil), roots...)
	for _, r := range roots {
		seen[r] = true
	}
	var problems []string
	for len(queue) > 0 {
		fn := queue[0]
		queue = queue[1:]
		if indirect != nil && indirect[fn] && !allowedIndirect[fn] && !strings.HasPrefix(fn, "runtime.") {
			problems = append(problems, "indirect call in "+chain(parent, fn))
		}
		for _, callee := range calls[fn] {
			if seen[callee] {
				continue
			}
			seen[callee] = true
			parent[callee] = fn
			if forbidden.MatchString(callee) {
				problems = append(problems, chain(parent, callee))
				continue
			}
			if strings.HasPrefix(callee, "runtime.panic") || strings.HasPrefix(callee, "runtime.goPanic") {
				continue // only on a kernel bug, which then faults into the panic path
			}
			queue = append(queue, callee)
		}
	}
	sort.Strings(problems)
	return problems
}

func chain(parent map[string]string, fn string) string {
	parts := []string{fn}
	for p, ok := parent[fn]; ok; p, ok = parent[p] {
		parts = append([]string{p}, parts...)
	}
	return strings.Join(parts, " -> ")
}

// callGraph parses `go tool objdump` output into direct callees per
// function, and the set of functions that make indirect calls.
func callGraph(dump []byte) (map[string][]string, map[string]bool) {
	calls := map[string][]string{}
	indirect := map[string]bool{}
	text := regexp.MustCompile(`^TEXT (\S+)\(SB\)`)
	call := regexp.MustCompile(`\tCALL (.*)$`)
	direct := regexp.MustCompile(`^([^ ]+)\(SB\)`)
	var cur string
	sc := bufio.NewScanner(bytes.NewReader(dump))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := text.FindStringSubmatch(line); m != nil {
			cur = m[1]
			calls[cur] = calls[cur][:0:0]
			continue
		}
		m := call.FindStringSubmatch(strings.TrimRight(line, "\t "))
		if m == nil || cur == "" {
			continue
		}
		target := strings.TrimSpace(m[1])
		if d := direct.FindStringSubmatch(target); d != nil {
			calls[cur] = append(calls[cur], d[1])
		} else {
			indirect[cur] = true
		}
	}
	return calls, indirect
}
