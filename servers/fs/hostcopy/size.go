package hostcopy

import (
	"errors"
	"strconv"
	"strings"
)

// maxSize bounds an image size: 1 PiB, far beyond any host file an image
// lives in, and small enough that block arithmetic cannot overflow.
const maxSize = 1 << 50

// ParseSize reads an image size in bytes with an optional binary suffix
// K, M, G or T ("64M"), as valfs mkfs -size and mkimage -disk-size take it.
func ParseSize(s string) (uint64, error) {
	mult := uint64(1)
	for i, suffix := range []string{"K", "M", "G", "T"} {
		if strings.HasSuffix(s, suffix) {
			mult, s = 1<<(10*(i+1)), strings.TrimSuffix(s, suffix)
			break
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, err
	}
	if n > maxSize/mult {
		return 0, errors.New("too large (the limit is 1 PiB)")
	}
	return n * mult, nil
}
