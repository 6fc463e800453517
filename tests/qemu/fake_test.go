package qemu

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The harness's tests run against a fake QEMU: this test binary, started
// again with fakeScriptEnv naming a script. TestMain notices and plays the
// script instead of running tests.
const fakeScriptEnv = "VALENCE_FAKE_QEMU_SCRIPT"

func TestMain(m *testing.M) {
	if script := os.Getenv(fakeScriptEnv); script != "" {
		os.Exit(fakeQEMU(script))
	}
	os.Exit(m.Run())
}

// fakeScript is what the fake QEMU does. Each step is an operation and its
// argument, separated by a space:
//
//	out TEXT      write TEXT to standard output
//	err TEXT      write TEXT to standard error
//	in TEXT       read standard input until TEXT has been read
//	sleep DUR     sleep for the time.ParseDuration value DUR
//	exit N        exit with status N (the default at the end is 0)
//	hang          sleep until killed
type fakeScript struct {
	ArgsFile string // where to record the command line, if set
	Steps    []string
}

// fakeQEMU plays the script in the file named path and returns the exit
// status.
func fakeQEMU(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake qemu:", err)
		return 90
	}
	var s fakeScript
	if err := json.Unmarshal(data, &s); err != nil {
		fmt.Fprintln(os.Stderr, "fake qemu:", err)
		return 91
	}
	if s.ArgsFile != "" {
		args, _ := json.Marshal(os.Args[1:])
		if err := os.WriteFile(s.ArgsFile, args, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "fake qemu:", err)
			return 92
		}
	}
	in := bufio.NewReader(os.Stdin)
	var input []byte
	for _, step := range s.Steps {
		op, arg, _ := strings.Cut(step, " ")
		switch op {
		case "out":
			os.Stdout.WriteString(arg)
		case "err":
			os.Stderr.WriteString(arg)
		case "in":
			for !strings.Contains(string(input), arg) {
				b, err := in.ReadByte()
				if err != nil {
					fmt.Fprintf(os.Stderr, "fake qemu: waiting for input %q: %v\n", arg, err)
					return 93
				}
				input = append(input, b)
			}
			_, rest, _ := strings.Cut(string(input), arg)
			input = []byte(rest)
		case "sleep":
			d, err := time.ParseDuration(arg)
			if err != nil {
				fmt.Fprintln(os.Stderr, "fake qemu:", err)
				return 94
			}
			time.Sleep(d)
		case "exit":
			n, err := strconv.Atoi(arg)
			if err != nil {
				fmt.Fprintln(os.Stderr, "fake qemu:", err)
				return 95
			}
			return n
		case "hang":
			time.Sleep(time.Hour)
		default:
			fmt.Fprintf(os.Stderr, "fake qemu: unknown step %q\n", step)
			return 96
		}
	}
	return 0
}

// fakeBoot prepares a fake QEMU that plays steps, and returns Options that
// boot it and the file in which it records its command line. It points
// VALENCE_TEST_LOG_DIR at dir/logs.
func fakeBoot(t *testing.T, steps ...string) (opts Options, argsFile, logs string) {
	t.Helper()
	dir := t.TempDir()
	p := Paths{
		Kernel: filepath.Join(dir, "valence.mb"),
		Initfs: filepath.Join(dir, "initfs.tar"),
		Syms:   filepath.Join(dir, "kernel.sym"),
	}
	for _, f := range p.files() {
		if err := os.WriteFile(f.path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	argsFile = filepath.Join(dir, "args.json")
	script, err := json.Marshal(fakeScript{ArgsFile: argsFile, Steps: steps})
	if err != nil {
		t.Fatal(err)
	}
	scriptFile := filepath.Join(dir, "script.json")
	if err := os.WriteFile(scriptFile, script, 0o644); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	logs = filepath.Join(dir, "logs")
	t.Setenv(QEMUEnv, exe)
	t.Setenv(fakeScriptEnv, scriptFile)
	t.Setenv(LogDirEnv, logs)
	t.Setenv(AccelEnv, "")
	return Options{Paths: &p, Timeout: time.Minute}, argsFile, logs
}

// fakeTB stands in for a test's testing.TB so that the harness's failures
// and skips can be observed. Fatal and Skip end the calling goroutine, as
// the real ones do; runTB runs a body on its own goroutine for that.
type fakeTB struct {
	testing.TB // the real test, for anything not overridden
	name       string

	mu       sync.Mutex
	failed   bool
	skipped  bool
	messages []string // from Fatal, Error and Skip
	logs     []string // from Log
	cleanups []func()
}

func (f *fakeTB) Name() string { return f.name }
func (f *fakeTB) Helper()      {}

func (f *fakeTB) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

func (f *fakeTB) record(msg string, fail, skip bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.messages = append(f.messages, msg)
	f.failed = f.failed || fail
	f.skipped = f.skipped || skip
}

func (f *fakeTB) Error(args ...any) { f.record(fmt.Sprint(args...), true, false) }
func (f *fakeTB) Errorf(format string, args ...any) {
	f.record(fmt.Sprintf(format, args...), true, false)
}
func (f *fakeTB) Fail()                             { f.record("Fail", true, false) }
func (f *fakeTB) FailNow()                          { f.record("FailNow", true, false); runtime.Goexit() }
func (f *fakeTB) Fatal(args ...any)                 { f.Error(args...); runtime.Goexit() }
func (f *fakeTB) Fatalf(format string, args ...any) { f.Errorf(format, args...); runtime.Goexit() }
func (f *fakeTB) Skip(args ...any)                  { f.record(fmt.Sprint(args...), false, true); runtime.Goexit() }
func (f *fakeTB) Skipf(format string, args ...any) {
	f.record(fmt.Sprintf(format, args...), false, true)
	runtime.Goexit()
}
func (f *fakeTB) SkipNow() { f.record("SkipNow", false, true); runtime.Goexit() }
func (f *fakeTB) Log(args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logs = append(f.logs, fmt.Sprint(args...))
}
func (f *fakeTB) Logf(format string, args ...any) { f.Log(fmt.Sprintf(format, args...)) }
func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

// message returns everything reported through Fatal, Error and Skip.
func (f *fakeTB) message() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.messages, "\n")
}

// allLogs returns everything reported through Log.
func (f *fakeTB) allLogs() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.logs, "\n")
}

// runTB runs body with a fakeTB named name on a goroutine of its own, then
// runs the registered cleanups, last first, as the testing package does.
func runTB(t *testing.T, name string, body func(tb testing.TB)) *fakeTB {
	t.Helper()
	f := &fakeTB{TB: t, name: name}
	done := make(chan struct{})
	go func() {
		defer close(done)
		body(f)
	}()
	<-done
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
	return f
}
