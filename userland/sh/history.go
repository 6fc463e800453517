package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// History file format: one entry per line, in the order typed. An entry
// may span lines (a loop typed over several lines, a here-document), so
// inside an entry a backslash is written as two backslashes and a newline
// as backslash-n; any other byte is written as is. Reading is lenient: any
// bytes at all parse, an unknown escape is kept literally, an empty line or
// an entry longer than maxHistEntry is skipped.
const (
	defaultHistSize = 1000
	maxHistSize     = 100000
	maxHistEntry    = 64 << 10 // longer commands are not recorded
	maxHistRead     = 8 << 20  // only the last 8 MiB of a larger file are read
)

// history is the interactive shell's command history: the last size
// entries in memory and in the file at path ("" for none). The file is
// appended to after every command and rewritten with the last size entries
// when it would hold more, so it stays bounded.
type history struct {
	entries []string // oldest first, len(entries) <= size
	size    int
	path    string
	inFile  int // entries the file holds as far as this shell knows
	errOut  io.Writer
	warned  bool
}

// encodeHistEntry escapes an entry to one line (without its newline).
func encodeHistEntry(s string) string {
	if !strings.ContainsAny(s, "\\\n") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// decodeHistEntry undoes encodeHistEntry.
func decodeHistEntry(line []byte) string {
	if bytes.IndexByte(line, '\\') < 0 {
		return string(line)
	}
	var b strings.Builder
	for i := 0; i < len(line); i++ {
		if line[i] == '\\' && i+1 < len(line) {
			switch line[i+1] {
			case '\\':
				b.WriteByte('\\')
				i++
				continue
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			}
		}
		b.WriteByte(line[i])
	}
	return b.String()
}

// parseHistory decodes a history file's contents and keeps the last size
// entries. It accepts any bytes.
func parseHistory(data []byte, size int) []string {
	var entries []string
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(line) == 0 || len(line) > 2*maxHistEntry {
			continue
		}
		e := decodeHistEntry(line)
		if len(e) > maxHistEntry || strings.TrimSpace(e) == "" {
			continue
		}
		entries = append(entries, e)
	}
	if len(entries) > size {
		entries = append([]string(nil), entries[len(entries)-size:]...)
	}
	return entries
}

// histSizeOf interprets HISTSIZE: a count from 0 to maxHistSize, or the
// default when unset or not a number.
func histSizeOf(v string) int {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return defaultHistSize
	}
	return min(n, maxHistSize)
}

// load reads the file, keeping its last h.size entries; a missing,
// unreadable or garbage file gives an empty or partial history, never an
// error. A file holding more than h.size entries is trimmed.
func (h *history) load() {
	if h.path == "" || h.size == 0 {
		return
	}
	f, err := os.Open(h.path)
	if err != nil {
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return
	}
	skipFirst := false
	if fi.Size() > maxHistRead {
		if _, err := f.Seek(fi.Size()-maxHistRead, io.SeekStart); err != nil {
			return
		}
		skipFirst = true
	}
	data, err := io.ReadAll(io.LimitReader(f, maxHistRead))
	if err != nil {
		return
	}
	if skipFirst { // the first line is a fragment
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		} else {
			data = nil
		}
	}
	all := parseHistory(data, maxHistSize+1)
	h.entries = all
	if len(all) > h.size {
		h.entries = append([]string(nil), all[len(all)-h.size:]...)
	}
	h.inFile = len(all)
	if skipFirst || h.inFile > h.size {
		h.rewrite()
	}
}

// add records a command: in memory, and appended to the file.
func (h *history) add(cmd string) {
	cmd = strings.TrimRight(cmd, "\n")
	if h.size == 0 || strings.TrimSpace(cmd) == "" || len(cmd) > maxHistEntry {
		return
	}
	h.entries = append(h.entries, cmd)
	if len(h.entries) > h.size {
		h.entries = append(h.entries[:0:0], h.entries[len(h.entries)-h.size:]...)
	}
	if h.path == "" {
		return
	}
	if h.inFile+1 > h.size {
		h.rewrite()
		return
	}
	f, err := os.OpenFile(h.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err == nil {
		_, err = f.WriteString(encodeHistEntry(cmd) + "\n")
		if e := f.Close(); err == nil {
			err = e
		}
	}
	if err != nil {
		h.warn(err)
		return
	}
	h.inFile++
}

// rewrite replaces the file with the entries in memory, through a new file
// renamed over the old so a crash leaves one or the other.
func (h *history) rewrite() {
	var b bytes.Buffer
	for _, e := range h.entries {
		b.WriteString(encodeHistEntry(e))
		b.WriteByte('\n')
	}
	tmp := filepath.Join(filepath.Dir(h.path), "."+filepath.Base(h.path)+".new")
	err := os.WriteFile(tmp, b.Bytes(), 0o600)
	if err == nil {
		err = os.Rename(tmp, h.path)
	}
	if err != nil {
		os.Remove(tmp)
		h.warn(err)
		return
	}
	h.inFile = len(h.entries)
}

// clear empties the history and its file (history -c).
func (h *history) clear() {
	h.entries = nil
	if h.path != "" {
		h.rewrite()
	}
}

// warn reports a history file error once; the shell goes on without it.
func (h *history) warn(err error) {
	if h.warned || h.errOut == nil {
		return
	}
	h.warned = true
	fmt.Fprintf(h.errOut, "sh: history file: %v\n", err)
}

// list returns the entries for the history builtin.
func (h *history) list() []string { return h.entries }
