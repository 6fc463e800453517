package kfile

import (
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/abi/linux"
)

// OpenFile is an open file description: shared by dup'd descriptors and
// across fork, with its offset and status flags. Its file is released
// when the last reference goes (Drop).
type OpenFile struct {
	File File
	refs atomic.Int32
	Mu   sync.Mutex // guards Off and Flags
	Off  int64
	// Flags are O_NONBLOCK, O_APPEND and the access mode.
	Flags uint32
	Path  string // the absolute path it was opened at
	FS    FS     // the filesystem it belongs to; nil outside the namespace (pipes, eventfd)
}

// NewOpenFile returns an open file description of f with one reference.
func NewOpenFile(f File, flags uint32, path string) *OpenFile {
	of := &OpenFile{File: f, Flags: flags, Path: path}
	of.refs.Store(1)
	return of
}

// Retain takes another reference and returns of.
func (of *OpenFile) Retain() *OpenFile { of.refs.Add(1); return of }

// Drop lets go of a reference, releasing the file with the last one.
func (of *OpenFile) Drop() {
	if of.refs.Add(-1) == 0 {
		of.File.Release()
	}
}

// Nonblock reports whether O_NONBLOCK is set.
func (of *OpenFile) Nonblock() bool {
	of.Mu.Lock()
	defer of.Mu.Unlock()
	return of.Flags&linux.O_NONBLOCK != 0
}
