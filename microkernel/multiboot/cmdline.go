package multiboot

// CmdlineArgs splits cmdline into words separated by runs of spaces or
// tabs, stores them in out and returns how many it stored. A NUL ends
// the line, so raw loader memory can be passed directly. Words beyond
// len(out) are dropped; callers that must notice should pass an out one
// longer than they need and check whether it filled.
//
// Each word is a subslice of cmdline with its capacity clipped to its
// length, so appending to one cannot overwrite the next. Nothing is
// allocated, and the first word (QEMU puts the kernel's path there) is
// kept like any other.
func CmdlineArgs(cmdline []byte, out [][]byte) int {
	n := 0
	i := 0
	for n < len(out) {
		for i < len(cmdline) && isSpace(cmdline[i]) {
			i++
		}
		if i >= len(cmdline) || cmdline[i] == 0 {
			break
		}
		start := i
		for i < len(cmdline) && cmdline[i] != 0 && !isSpace(cmdline[i]) {
			i++
		}
		out[n] = cmdline[start:i:i]
		n++
	}
	return n
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }
