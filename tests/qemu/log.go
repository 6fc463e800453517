package qemu

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// LogLine matches the start of a kernel log line, a timestamp in seconds
// since boot with microsecond precision, as Linux prints it:
// "[    0.123456] text".
var LogLine = regexp.MustCompile(`^\[ *\d+\.\d{6}\] `)

// LogEntry is one kernel log line.
type LogEntry struct {
	Time time.Duration // the timestamp
	Text string        // the text after the timestamp
}

// maxLogSeconds keeps timestamps within a time.Duration.
const maxLogSeconds = int64(time.Duration(1<<63-1) / time.Second)

// ParseLogLine parses one line (without its newline) as a kernel log line.
// It reports false for lines that LogLine does not match.
func ParseLogLine(line string) (LogEntry, bool) {
	line = strings.TrimSuffix(line, "\r")
	loc := LogLine.FindStringIndex(line)
	if loc == nil {
		return LogEntry{}, false
	}
	// The stamp is between "[" and "] ": "  12.345678".
	stamp := strings.TrimLeft(line[1:loc[1]-2], " ")
	secs, micros, _ := strings.Cut(stamp, ".")
	s, err := strconv.ParseInt(secs, 10, 64)
	if err != nil || s >= maxLogSeconds {
		return LogEntry{}, false
	}
	us, err := strconv.ParseInt(micros, 10, 64)
	if err != nil {
		return LogEntry{}, false
	}
	return LogEntry{
		Time: time.Duration(s)*time.Second + time.Duration(us)*time.Microsecond,
		Text: line[loc[1]:],
	}, true
}

// ParseLog returns the kernel log lines in out, in order, skipping every
// other line.
func ParseLog(out string) []LogEntry {
	var entries []LogEntry
	for line := range strings.SplitSeq(out, "\n") {
		if e, ok := ParseLogLine(line); ok {
			entries = append(entries, e)
		}
	}
	return entries
}

// LogDirEnv names the environment variable that overrides where the
// console output of failed tests is saved; by default it is
// <root>/build/test-logs.
const LogDirEnv = "VALENCE_TEST_LOG_DIR"

// logDir returns the directory for console logs of failed tests, or "" if
// there is none.
func logDir() string {
	if dir := os.Getenv(LogDirEnv); dir != "" {
		return dir
	}
	root, err := Root()
	if err != nil {
		return ""
	}
	return filepath.Join(root, "build", "test-logs")
}

// saveLog writes out to <dir>/<test name>.log, never overwriting the log of
// an earlier machine of the same test, and returns the file's path.
func saveLog(dir, test, out string) (string, error) {
	if dir == "" {
		return "", fmt.Errorf("no log directory: no repository root and %s is unset", LogDirEnv)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	base := logFileName(test)
	for i := 1; ; i++ {
		name := base + ".log"
		if i > 1 {
			name = fmt.Sprintf("%s.%d.log", base, i)
		}
		path := filepath.Join(dir, name)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if os.IsExist(err) {
			continue
		}
		if err != nil {
			return "", err
		}
		if _, err := f.WriteString(out); err != nil {
			f.Close()
			return "", err
		}
		return path, f.Close()
	}
}

// logFileName turns a test name such as "TestPanic/selftest=panic" into a
// file name such as "TestPanic_selftest=panic".
func logFileName(test string) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r == '/' || r == '\\' || r == ':' || r == '*' || r == '?' || r == '"' || r == '<' || r == '>' || r == '|':
			return '_'
		case r < ' ' || r == ' ':
			return '_'
		}
		return r
	}, test)
	if name == "" || name == "." || name == ".." {
		name = "test"
	}
	return name
}
