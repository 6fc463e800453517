package blkfile

import (
	"context"
	"fmt"
	"syscall"

	"valence.dev/servers/fs/blockdev"
	"valence.dev/servers/fs/fileproto"
)

const blockSize = blockdev.BlockSize

// Read implements fileproto.Handler: pread64(2) of the device, as
// blkdev_read_iter: nothing at or past the end, clipped before it.
func (s *Server) Read(ctx context.Context, badge uint64, req fileproto.ReadRequest) (fileproto.ReadReply, error) {
	// Shared for the whole transfer: the buffer stays attached.
	s.mu.RLock()
	defer s.mu.RUnlock()
	f, err := s.file(badge, req.Fid)
	switch {
	case err != nil:
		return fileproto.ReadReply{}, err
	case !f.readable():
		return fileproto.ReadReply{}, s.errno(syscall.EBADF, "file %d is not open for reading", req.Fid)
	case req.Off < 0:
		return fileproto.ReadReply{}, s.errno(syscall.EINVAL, "offset %d", req.Off)
	case req.Buf == 0 && req.Len > fileproto.MaxInline:
		return fileproto.ReadReply{}, s.errno(syscall.EINVAL, "%d bytes inline (at most %d)", req.Len, fileproto.MaxInline)
	}
	var p []byte
	if req.Buf != 0 {
		if p, err = s.buffer(badge, req.Buf, req.BufOff, req.Len); err != nil {
			return fileproto.ReadReply{}, err
		}
	}
	size := s.size()
	if req.Off >= size {
		return fileproto.ReadReply{}, nil
	}
	n := min(int64(req.Len), size-req.Off)
	if req.Buf == 0 {
		p = make([]byte, n)
	}
	p = p[:n]
	s.io.RLock()
	err = s.readAt(p, req.Off)
	s.io.RUnlock()
	if err != nil {
		return fileproto.ReadReply{}, s.deviceErr(err)
	}
	rep := fileproto.ReadReply{N: uint32(n)}
	if req.Buf == 0 {
		rep.Data = p
	}
	return rep, nil
}

// Write implements fileproto.Handler: pwrite64(2) of the device, as
// blkdev_write_iter: 0 bytes succeed anywhere, then ENOSPC at or past
// the end, and a write running past the end is cut short. O_APPEND is
// ignored, as blkdev_write_iter ignores it.
func (s *Server) Write(ctx context.Context, badge uint64, req fileproto.WriteRequest) (fileproto.WriteReply, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	f, err := s.file(badge, req.Fid)
	switch {
	case err != nil:
		return fileproto.WriteReply{}, err
	case !f.writable():
		return fileproto.WriteReply{}, s.errno(syscall.EBADF, "file %d is not open for writing", req.Fid)
	case req.Off < 0:
		return fileproto.WriteReply{}, s.errno(syscall.EINVAL, "offset %d", req.Off)
	}
	p := req.Data
	if req.Buf == 0 {
		if len(p) > fileproto.MaxInline {
			return fileproto.WriteReply{}, s.errno(syscall.EINVAL, "%d bytes inline (at most %d)", len(p), fileproto.MaxInline)
		}
	} else if p, err = s.buffer(badge, req.Buf, req.BufOff, req.Len); err != nil {
		return fileproto.WriteReply{}, err
	}
	if len(p) == 0 {
		return fileproto.WriteReply{End: req.Off}, nil
	}
	size := s.size()
	if req.Off >= size {
		return fileproto.WriteReply{}, s.errno(syscall.ENOSPC, "write at %d: the device ends at %d", req.Off, size)
	}
	if int64(len(p)) > size-req.Off {
		p = p[:size-req.Off]
	}
	s.io.Lock()
	n, werr := s.writeAt(p, req.Off)
	var ferr error
	if n > 0 && f.sync() {
		ferr = s.dev.Flush()
	}
	s.io.Unlock()
	switch {
	case ferr != nil:
		return fileproto.WriteReply{}, s.deviceErr(fmt.Errorf("flush: %w", ferr))
	case werr != nil && n == 0:
		return fileproto.WriteReply{}, s.deviceErr(werr)
	}
	return fileproto.WriteReply{N: uint32(n), End: req.Off + int64(n)}, nil
}

// readAt fills p from the device at byte off; p lies within the device.
// The partial blocks at either end go through a block of scratch, the
// whole blocks between straight into p. s.io must be held.
func (s *Server) readAt(p []byte, off int64) error {
	if len(p) == 0 {
		return nil
	}
	block := uint64(off / blockSize)
	if head := int(off % blockSize); head != 0 || len(p) < blockSize {
		var b [blockSize]byte
		if err := s.readBlocks(b[:], block); err != nil {
			return err
		}
		p = p[copy(p, b[head:]):]
		block++
	}
	if whole := len(p) / blockSize * blockSize; whole > 0 {
		if err := s.readBlocks(p[:whole], block); err != nil {
			return err
		}
		p = p[whole:]
		block += uint64(whole / blockSize)
	}
	if len(p) > 0 {
		var b [blockSize]byte
		if err := s.readBlocks(b[:], block); err != nil {
			return err
		}
		copy(p, b[:])
	}
	return nil
}

// writeAt writes p to the device at byte off; p lies within the device.
// A block p covers partly is read, changed and written back; the whole
// blocks go straight from p. It returns how many bytes of p reached the
// device before an error. s.io must be held exclusively, which keeps
// another write from changing a partial block between its read and its
// write.
func (s *Server) writeAt(p []byte, off int64) (int, error) {
	block := uint64(off / blockSize)
	done := 0
	if head := int(off % blockSize); head != 0 || len(p) < blockSize {
		n, err := s.patchBlock(block, head, p)
		if err != nil {
			return done, err
		}
		done += n
		block++
	}
	if whole := (len(p) - done) / blockSize * blockSize; whole > 0 {
		if err := s.writeBlocks(p[done:done+whole], block); err != nil {
			return done, err
		}
		done += whole
		block += uint64(whole / blockSize)
	}
	if done < len(p) {
		n, err := s.patchBlock(block, 0, p[done:])
		if err != nil {
			return done, err
		}
		done += n
	}
	return done, nil
}

// patchBlock copies the start of p into block at byte at, by reading the
// block, changing it and writing it back. It returns how many bytes of
// p it wrote.
func (s *Server) patchBlock(block uint64, at int, p []byte) (int, error) {
	var b [blockSize]byte
	if err := s.readBlocks(b[:], block); err != nil {
		return 0, err
	}
	n := copy(b[at:], p)
	if err := s.writeBlocks(b[:], block); err != nil {
		return 0, err
	}
	return n, nil
}

func (s *Server) readBlocks(p []byte, block uint64) error {
	if err := s.dev.ReadAt(p, block); err != nil {
		return fmt.Errorf("read %d blocks at block %d: %w", len(p)/blockSize, block, err)
	}
	return nil
}

func (s *Server) writeBlocks(p []byte, block uint64) error {
	if err := s.dev.WriteAt(p, block); err != nil {
		return fmt.Errorf("write %d blocks at block %d: %w", len(p)/blockSize, block, err)
	}
	return nil
}

// Fsync implements fileproto.Handler: the device's writes become durable
// (blkdev_fsync), whatever the file was opened for.
func (s *Server) Fsync(ctx context.Context, badge uint64, req fileproto.FidRequest) (fileproto.Empty, error) {
	if err := s.checkFid(badge, req.Fid); err != nil {
		return fileproto.Empty{}, err
	}
	return fileproto.Empty{}, s.flush()
}

// Sync implements fileproto.Handler.
func (s *Server) Sync(ctx context.Context, badge uint64, _ fileproto.Empty) (fileproto.Empty, error) {
	return fileproto.Empty{}, s.flush()
}

// flush flushes the device, alone (see Server.io).
func (s *Server) flush() error {
	s.io.Lock()
	defer s.io.Unlock()
	if err := s.dev.Flush(); err != nil {
		return s.deviceErr(fmt.Errorf("flush: %w", err))
	}
	return nil
}
