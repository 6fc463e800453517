package proc

import (
	"testing"

	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

// TestInstallBounds: the lowest-free-descriptor search refuses a negative
// or too-large start instead of indexing out of the table (sysfuzz found
// fcntl(fd, F_DUPFD, -2145386496) panicking the kernel).
func TestInstallBounds(t *testing.T) {
	tests := []struct {
		name   string
		min    int32
		wantFD int32
		want   errno.Errno
	}{
		{"zero", 0, 0, 0},
		{"above the first", 5, 5, 0},
		{"last", maxFDs - 1, maxFDs - 1, 0},
		{"negative", -2145386496, -1, errno.EINVAL},
		{"minus one", -1, -1, errno.EINVAL},
		{"past the limit", maxFDs, -1, errno.EMFILE},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tab := newFDTable()
			fd, e := tab.install(newOpenFile(nil, 0, "/x"), tc.min, false)
			if fd != tc.wantFD || e != tc.want {
				t.Errorf("install(min %d) = %d, %v; want %d, %v", tc.min, fd, e, tc.wantFD, tc.want)
			}
		})
	}
}
