package fsd

import (
	"context"
	"errors"
	"io"
	"os"
	"syscall"

	"valence.dev/ipc"
	"valence.dev/servers/fs/fileproto"
	"valence.dev/servers/fs/fs"
)

// direntBudget is the bytes of entries one reply may carry, leaving
// room for the count and End.
const direntBudget = ipc.MaxData - 32

// direntSize bounds an entry's encoding: Ino, Off, Type, the name's
// length (at most 2 bytes of uvarint for 255) and the name.
func direntSize(e fileproto.Dirent) int { return 8 + 8 + 1 + 2 + len(e.Name) }

// Getdents implements fileproto.Handler. Entries come in the
// directory's own order, "." and ".." first; entries are read from the
// filesystem a few at a time into pending, and sent as they fit.
func (s *Server) Getdents(ctx context.Context, badge uint64, req fileproto.GetdentsRequest) (fileproto.GetdentsReply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.file(badge, req.Fid)
	if err != nil {
		return fileproto.GetdentsReply{}, err
	}
	if !f.dir {
		return fileproto.GetdentsReply{}, errno(syscall.ENOTDIR, "file %d is not a directory", req.Fid)
	}
	if req.Restart {
		if err := s.rewind(f); err != nil {
			return fileproto.GetdentsReply{}, err
		}
	}
	if !f.started {
		if err := s.dots(f); err != nil {
			return fileproto.GetdentsReply{}, err
		}
	}
	var rep fileproto.GetdentsReply
	size := 0
	for req.Max == 0 || len(rep.Entries) < int(req.Max) {
		if len(f.pending) == 0 && !f.eof {
			if err := s.readMore(f); err != nil {
				return fileproto.GetdentsReply{}, err
			}
		}
		if len(f.pending) == 0 {
			break
		}
		e := f.pending[0]
		if size+direntSize(e) > direntBudget {
			break
		}
		size += direntSize(e)
		f.pos++
		e.Off = f.pos
		rep.Entries = append(rep.Entries, e)
		f.pending = f.pending[1:]
	}
	rep.End = f.eof && len(f.pending) == 0
	return rep, nil
}

// dots starts a stream with "." and "..".
func (s *Server) dots(f *openFile) error {
	up := f.path
	if len(up) > 0 {
		up = up[:len(up)-1]
	}
	pst, err := s.lstat(up)
	if err != nil {
		return fsErr(err)
	}
	f.pending = append(f.pending,
		fileproto.Dirent{Ino: f.ino, Type: fileproto.DT_DIR, Name: "."},
		fileproto.Dirent{Ino: pst.Ino, Type: fileproto.DT_DIR, Name: ".."})
	f.started = true
	return nil
}

// readMore reads the next few entries from the filesystem.
func (s *Server) readMore(f *openFile) error {
	ents, err := f.f.ReadDir(64)
	if errors.Is(err, io.EOF) {
		f.eof = true
		return nil
	}
	if err != nil {
		return fsErr(err)
	}
	for _, e := range ents {
		f.pending = append(f.pending, fileproto.Dirent{Ino: e.Ino, Type: dtype(e.Type), Name: e.Name})
	}
	return nil
}

// rewind restarts f's stream: the filesystem's handle cannot seek, so
// the directory is opened again.
func (s *Server) rewind(f *openFile) error {
	if _, err := s.current(f); err != nil {
		return err
	}
	h, err := s.fs.OpenFile(join(f.path), os.O_RDONLY, 0)
	if err != nil {
		return fsErr(err)
	}
	f.f.Close()
	f.f = h
	f.started, f.pending, f.pos, f.eof = false, nil, 0, false
	return nil
}

func dtype(mode uint32) uint8 {
	switch mode & fs.ModeType {
	case fs.ModeDir:
		return fileproto.DT_DIR
	case fs.ModeSymlink:
		return fileproto.DT_LNK
	case fs.ModeSocket:
		return fileproto.DT_SOCK
	case fs.ModeFIFO:
		return fileproto.DT_FIFO
	}
	return fileproto.DT_REG
}
