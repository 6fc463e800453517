package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The test binary is also the shell: run with SH_TEST_BE_SHELL=1 it runs
// shellMain instead of the tests, so the tests run the real program as a
// subprocess (and the shell's re-execution of itself for scripts without
// #! works too).
func TestMain(m *testing.M) {
	if os.Getenv("SH_TEST_BE_SHELL") == "1" {
		argv := append([]string{"sh"}, os.Args[1:]...)
		if a0 := os.Getenv("SH_TEST_ARGV0"); a0 != "" {
			argv[0] = a0
		}
		os.Exit(shellMain(argv))
	}
	os.Exit(m.Run())
}

// shellCmd prepares the shell with args, in a clean environment rooted at
// home.
func shellCmd(t *testing.T, ctx context.Context, home string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = []string{"SH_TEST_BE_SHELL=1", "PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + home, "SHBIN=" + exe}
	cmd.Dir = home
	return cmd
}

type shResult struct {
	Stdout string
	Stderr string
	Code   int
}

func runShell(t *testing.T, stdin string, env []string, args ...string) shResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	home := t.TempDir()
	cmd := shellCmd(t, ctx, home, args...)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running the shell: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("shell %q timed out; stdout %q stderr %q", args, out.String(), errb.String())
	}
	return shResult{out.String(), errb.String(), code}
}

func TestCommandStrings(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		stdout string
		code   int
		stderr string // a regexp the standard error must match, if set
	}{
		{"echo", []string{"-c", "echo hello world"}, "hello world\n", 0, ""},
		{"$0 and parameters", []string{"-c", `echo "$0" "$1" "$#" "$@"`, "name", "a", "b c"}, "name a 2 a b c\n", 0, ""},
		{"$0 defaults to argv0", []string{"-c", `echo $0; f() { echo in $0 $1; }; f x`}, "sh\nin sh x\n", 0, ""},
		{"exit status", []string{"-c", "exit 7"}, "", 7, ""},
		{"status of last command", []string{"-c", "true; false"}, "", 1, ""},
		{"$?", []string{"-c", "false; echo $?; (exit 3); echo $?"}, "1\n3\n", 0, ""},
		{"not found", []string{"-c", "no-such-command-xyz"}, "", 127, "no-such-command-xyz: not found"},
		{"not executable", []string{"-c", "echo x > f; chmod 644 f; ./f"}, "", 126, "permission denied"},
		{"syntax error", []string{"-c", "echo 'unterminated"}, "", 2, "sh: .*quote"},
		{"syntax error after good statements", []string{"-c", "echo ran\nif then fi"}, "ran\n", 2, "sh: "},
		{"pipeline", []string{"-c", "printf 'b\\na\\n' | sort | cat"}, "a\nb\n", 0, ""},
		{"pipeline status is the last command's", []string{"-c", "true | false"}, "", 1, ""},
		{"pipefail", []string{"-o", "pipefail", "-c", "false | true"}, "", 1, ""},
		{"redirections", []string{"-c", "echo one > f; echo two >> f; cat < f; cat nosuch 2>/dev/null || echo failed"}, "one\ntwo\nfailed\n", 0, ""},
		{"here-document", []string{"-c", "x=val; cat <<EOF\nline $x\n  kept\nEOF\ncat <<'E'\n$x\nE"}, "line val\n  kept\n$x\n", 0, ""},
		{"globbing", []string{"-c", "touch a.txt b.txt c.log; echo *.txt; echo *.none"}, "a.txt b.txt\n*.none\n", 0, ""},
		{"command substitution of a program", []string{"-c", `x=$(printf 'abc'); echo "[$x]"`}, "[abc]\n", 0, ""},
		{"cd and pwd", []string{"-c", "mkdir d; cd d; pwd -P | sed 's|.*/||'; cd ..; cd d && /bin/pwd | sed 's|.*/||'"}, "d\nd\n", 0, ""},
		{"export to a child", []string{"-c", "export V=exported; W=local; sh -c 'echo $V-$W'"}, "exported-\n", 0, ""},
		{"unset", []string{"-c", "V=1; unset V; echo ${V-unset}"}, "unset\n", 0, ""},
		{"set -e", []string{"-e", "-c", "false; echo not reached"}, "", 1, ""},
		{"set -u", []string{"-c", "set -u; echo $nope; echo not reached"}, "", 1, "nope"},
		{"type and command", []string{"-c", "type cd; command -v sh >/dev/null && echo found"}, "cd is a shell builtin\nfound\n", 0, ""},
		{"trap EXIT", []string{"-c", "trap 'echo bye' EXIT; echo hi"}, "hi\nbye\n", 0, ""},
		{"trap EXIT on exit", []string{"-c", "trap 'echo bye' EXIT; exit 4"}, "bye\n", 4, ""},
		{"source", []string{"-c", "echo 'SRC=yes' > lib.sh; . ./lib.sh; echo $SRC; source ./lib.sh && echo again"}, "yes\nagain\n", 0, ""},
		{"umask", []string{"-c", "umask 027; umask; umask -S; touch u; stat -c %a u"}, "0027\nu=rwx,g=rx,o=\n640\n", 0, ""},
		{"background and wait", []string{"-c", `$SHBIN -c 'exit 3' & wait $!; echo $?`}, "3\n", 0, ""},
		{"$! is a process id", []string{"-c", `sleep 0.1 & case $! in ''|*[!0-9]*) echo bad;; *) echo pid;; esac; wait`}, "pid\n", 0, ""},
		{"kill a background job", []string{"-c", "sleep 100 & kill $!; wait $!; echo $?"}, "143\n", 0, ""},
		{"kill by job id", []string{"-c", "sleep 100 & kill -s KILL %1; wait %1; echo $?"}, "137\n", 0, ""},
		{"kill -l", []string{"-c", "kill -l 143; kill -l TERM"}, "TERM\n15\n", 0, ""},
		{"kill bad signal", []string{"-c", "kill -NOPE 1"}, "", 2, "invalid signal"},
		{"jobs without job control", []string{"-c", "sleep 100 & jobs; kill %1"}, "[1]+  Running                 sleep 100 &\n", 0, ""},
		{"wait for everything", []string{"-c", "sleep 0.2 & sleep 0.1 & wait; jobs; echo done"}, "done\n", 0, ""},
		{"nested background", []string{"-c", "{ echo inner & }; wait; echo after"}, "inner\nafter\n", 0, ""},
		{"fg without job control", []string{"-c", "fg"}, "", 1, "no job control"},
		{"script without #! runs in a new shell", []string{"-c", "printf 'echo from script $1\\n' > s; chmod +x s; ./s arg"}, "from script arg\n", 0, ""},
		{"exec replaces the shell", []string{"-c", `echo $$ > pid; exec $SHBIN -c 'test "$(cat pid)" = $$ && echo same'; echo not reached`}, "same\n", 0, ""},
		{"exec with redirection", []string{"-c", `exec $SHBIN -c 'echo to-file' > out; echo not reached`}, "", 0, ""},
		{"exec of a missing program", []string{"-c", "exec no-such-prog-xyz; echo not reached"}, "", 127, "not found"},
		{"huge word", []string{"-c", "x=" + strings.Repeat("y", 100000) + "; echo ${#x}"}, "100000\n", 0, ""},
		{"invalid option", []string{"-Z"}, "", 2, "invalid option"},
		{"missing script", []string{"no-such-script"}, "", 127, "no-such-script"},
		{"history in a non-interactive shell does nothing", []string{"-c", "history"}, "", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := runShell(t, "", nil, tc.args...)
			if got.Stdout != tc.stdout || got.Code != tc.code {
				t.Errorf("sh %q: got stdout %q status %d (stderr %q); want stdout %q status %d",
					tc.args, got.Stdout, got.Code, got.Stderr, tc.stdout, tc.code)
			}
			if tc.stderr != "" && !regexp.MustCompile("(?i)"+tc.stderr).MatchString(got.Stderr) {
				t.Errorf("sh %q: stderr %q does not match %q", tc.args, got.Stderr, tc.stderr)
			}
		})
	}
}

func TestScriptFromStdin(t *testing.T) {
	// The shell reads a command, runs it, then reads the next: "read"
	// takes the script's next line.
	got := runShell(t, "echo start\nread x\nthis line is data\necho got: $x\nexit 5\necho not reached\n", nil)
	want := shResult{Stdout: "start\ngot: this line is data\n", Code: 5}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestScriptFile(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "s.sh")
	os.WriteFile(script, []byte("echo $0 $1 $2\nexit 3\n"), 0o644)
	got := runShell(t, "", nil, script, "a", "b")
	want := shResult{Stdout: script + " a b\n", Code: 3}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestHostileStdin(t *testing.T) {
	garbage := make([]byte, 1<<20)
	rand.Read(garbage)
	got := runShell(t, string(garbage), nil)
	if got.Code == 0 || !strings.Contains(got.Stderr, "sh:") {
		t.Errorf("binary garbage: status %d stderr %.200q", got.Code, got.Stderr)
	}
	// A huge line is read and run (from a pipe the shell reads byte by
	// byte, to leave the rest for the commands it runs).
	line := "echo " + strings.Repeat("z", 1<<20) + "\n"
	got = runShell(t, line, nil)
	if got.Code != 0 || len(got.Stdout) != 1<<20+1 {
		t.Errorf("huge line: status %d, %d bytes out, stderr %.200q", got.Code, len(got.Stdout), got.Stderr)
	}
	// A word that never ends is cut off rather than grown without bound.
	endless := filepath.Join(t.TempDir(), "endless")
	os.WriteFile(endless, []byte("echo "+strings.Repeat("w", maxStatement+1)), 0o600)
	got = runShell(t, "", nil, endless)
	if got.Code != 2 || !strings.Contains(got.Stderr, "too long") {
		t.Errorf("endless word: status %d stderr %.200q", got.Code, got.Stderr)
	}
}

// TestInteractivePipe runs -i with input from a pipe: prompts on standard
// error, no job control, history written and bounded.
func TestInteractivePipe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	home := t.TempDir()
	os.WriteFile(filepath.Join(home, ".profile"), []byte("PROFILE=read\nHISTSIZE=3\nPS1='P$ '\n"), 0o644)
	os.WriteFile(filepath.Join(home, "env.sh"), []byte("ENVFILE=read\n"), 0o644)
	cmd := shellCmd(t, ctx, home, "-il")
	cmd.Env = append(cmd.Env, "ENV=$HOME/env.sh")
	cmd.Stdin = strings.NewReader("echo $PROFILE $ENVFILE\none\ntwo\nfor i in a b\ndo echo $i\ndone\nhistory\nfalse\n")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	ee, _ := err.(*exec.ExitError)
	if ee == nil || ee.ExitCode() != 1 {
		t.Errorf("exit: %v, want status 1 (of the last command)", err)
	}
	wantOut := "read read\na\nb\n    1  two\n    2  for i in a b\n       do echo $i\n       done\n    3  history\n"
	if out.String() != wantOut {
		t.Errorf("stdout %q, want %q", out.String(), wantOut)
	}
	if n := strings.Count(errb.String(), "P$ "); n != 7 {
		t.Errorf("want 7 prompts on stderr, got %d: %q", n, errb.String())
	}
	if !strings.Contains(errb.String(), "> ") {
		t.Errorf("no PS2 prompt in %q", errb.String())
	}
	hist, err := os.ReadFile(filepath.Join(home, ".sh_history"))
	if err != nil {
		t.Fatal(err)
	}
	wantHist := "history\nfalse\n"
	if got := string(hist); !strings.HasSuffix(got, wantHist) || strings.Count(got, "\n") != 3 {
		t.Errorf("history file %q: want 3 entries ending %q", got, wantHist)
	}
}

func TestInteractiveHostileHistory(t *testing.T) {
	for name, setup := range map[string]func(home string) []string{
		"garbage": func(home string) []string {
			g := make([]byte, 1<<16)
			rand.Read(g)
			os.WriteFile(filepath.Join(home, ".sh_history"), g, 0o600)
			return nil
		},
		"huge": func(home string) []string {
			f, _ := os.Create(filepath.Join(home, ".sh_history"))
			line := []byte(strings.Repeat("x", 1000) + "\n")
			for range 20000 {
				f.Write(line)
			}
			f.Close()
			return nil
		},
		"unwritable": func(home string) []string {
			return []string{"HISTFILE=" + filepath.Join(home, "missing", "dir", "h")}
		},
		"a directory": func(home string) []string {
			return []string{"HISTFILE=" + home}
		},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			home := t.TempDir()
			env := setup(home)
			cmd := shellCmd(t, ctx, home, "-i")
			cmd.Env = append(cmd.Env, env...)
			cmd.Stdin = strings.NewReader("echo works\nhistory 1\n")
			var out bytes.Buffer
			cmd.Stdout = &out
			if err := cmd.Run(); err != nil {
				t.Errorf("shell failed: %v", err)
			}
			if !strings.HasPrefix(out.String(), "works\n") || !strings.Contains(out.String(), "history 1") {
				t.Errorf("stdout %q", out.String())
			}
		})
	}
}
