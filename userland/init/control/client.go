package control

import (
	"fmt"
	"io"
)

// Do sends req on rw and reads the answer: every frame until one without
// More (at most MaxReplies), merged into one Reply. A refusal is not an
// error here: the caller reads Errno and Message.
func Do(rw io.ReadWriter, req Request) (Reply, error) {
	req.Version = Version
	if err := req.Check(); err != nil {
		return Reply{}, err
	}
	if err := WriteFrame(rw, &req); err != nil {
		return Reply{}, fmt.Errorf("control: sending %s: %w", req.Op, err)
	}
	var all Reply
	for i := 0; ; i++ {
		if i == MaxReplies {
			return Reply{}, ErrNoFrames
		}
		var r Reply
		if err := ReadFrame(rw, &r); err != nil {
			return Reply{}, fmt.Errorf("control: reading the answer to %s: %w", req.Op, err)
		}
		if i == 0 {
			all.Version, all.Errno, all.Message = r.Version, r.Errno, r.Message
		}
		all.Services = append(all.Services, r.Services...)
		all.Lines = append(all.Lines, r.Lines...)
		if !r.More {
			return all, nil
		}
	}
}
