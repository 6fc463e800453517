// Command sh is Valence's /bin/sh: a POSIX shell whose language — parser,
// expansions, redirections, here-documents, functions, the special
// builtins — is mvdan.cc/sh/v3 (syntax and interp), and whose process
// side — running programs, job control, the terminal, the interactive
// line editor, history — is this program. It is a stock static GOOS=linux
// binary: the same file runs on Linux and on Valence.
//
// # Modes
//
// "sh -c string [name [arg...]]", "sh file [arg...]" and "sh" with input
// from a pipe run non-interactively. "sh" on a terminal (standard input and
// standard error both terminals) or "sh -i" is interactive: it reads
// /etc/profile and $HOME/.profile when it is a login shell (-l, or argv[0]
// starting with "-"), then the file $ENV names, then its history; it
// prompts with PS1 (default "# " for uid 0, "$ " otherwise) and PS2.
//
// In every mode the shell reads a statement, runs it, and only then reads
// the next (POSIX XCU 2.1): syntax.Parser.StmtsSeq for scripts, and for
// interactive input the accumulated lines re-parsed until they stop being
// syntax.IsIncomplete. Reading from a pipe is one byte per read(2) so that
// a command run by a script finds its input right after the line that ran
// it. Each statement is handed to interp.Runner.Run on its own; interp
// answers $0 only for a whole syntax.File, so each statement's $0 is
// renamed to a variable the shell's base environment answers
// (environ.go). The same environment answers $! with a real process ID.
//
// # Programs and process groups
//
// interp runs a program through its exec handler. This shell's handler
// (spawn.go) forks and executes with syscall.ForkExec itself, not os/exec:
// it needs the process in a chosen process group and it needs wait4 with
// WUNTRACED to see the process stop, which os/exec's Wait does not report.
// Each process gets one goroutine (jobTable.watch) looping on wait4(pid,
// WUNTRACED|WCONTINUED) until the process exits (a kernel that refuses
// WCONTINUED, then WUNTRACED, with EINVAL gets the flags it takes); every
// state change is published under the table's mutex by closing a
// broadcast channel.
//
// interp has no notion of a job; the shell supplies one through the
// context it passes to Run. Every top-level statement is a stmtRun, and
// every external process the statement starts — directly, in a pipeline
// stage (interp runs each stage in a goroutine), in a loop or a function —
// joins the stmtRun's current job: the first process of a job creates its
// process group (Setpgid, Pgid 0) and the others join it (Pgid = the
// job's). For a foreground job the child also takes the terminal between
// fork and exec (SysProcAttr.Foreground: tcsetpgrp in the child, with
// signals blocked so SIGTTOU cannot stop it), so a job never runs even
// briefly in the background. The shell takes the terminal back
// (tcsetpgrp, with SIGTTOU blocked on the calling thread) whenever the
// foreground job has nothing left running, and restores its own terminal
// modes after a job that stopped or was killed by a signal. Starting a
// process and taking the terminal back happen under the same mutex, so
// the shell never takes the terminal from a process it is starting.
//
// When a job stops (^Z), each exec handler waiting for one of its processes
// returns 128+signal to interp, the job enters the job table and "[n]+
// Stopped" is printed; the statement goes on, as in other shells, and its
// next process starts a new job. A process whose output is being copied
// into the interpreter (a command substitution) is waited for to its end
// instead, since the copy must not change the interpreter's buffer later.
// When a foreground process dies of SIGINT the handler returns a fatal
// error, which ends the whole statement (^C stops a loop, not only the
// program running in it).
//
// "cmd &" at top level runs the statement in interp.Runner.Subshell on its
// own goroutine — interp's own model of an asynchronous list — with a
// background stmtRun; its processes form a background process group and its
// job is in the table from the start. "&" inside a compound command is left
// to interp (a goroutine; its "g1"-style IDs work with wait). A group of
// processes is identified by its first process; if every member has exited
// and been reaped before the next one starts, ForkExec's setpgid fails and
// the next process starts the group again.
//
// With job control off (not interactive, or no controlling terminal)
// processes stay in the shell's process group, the terminal is never
// touched, and wait4 is called without WUNTRACED.
//
// # Builtins
//
// interp lists jobs, fg, bg, kill, umask and history as builtins without
// implementing them, and its wait only knows its own goroutines. The call
// handler renames those commands to a NUL-prefixed name no shell word can
// have, which makes interp pass them to the exec handler, which runs them
// here (jobbuiltins.go, builtins.go). "exec command" replaces the process
// (execve), where interp would run the command as a child and exit.
//
// # Signals
//
// An interactive shell catches SIGINT, SIGQUIT, SIGTERM, SIGTSTP, SIGTTIN,
// SIGTTOU and SIGHUP with os/signal instead of ignoring them: an ignored
// signal stays ignored across execve in every program the shell starts,
// a caught one returns to its default. SIGINT cancels the context of the
// statement running in the shell (a builtin loop) or abandons the line
// being read; SIGHUP sends SIGHUP to every job and exits.
//
// # Input
//
// On a terminal the line editor (editor.go, keys.go) puts the terminal in
// raw mode for the duration of one line and draws with CR, ESC [ K and
// ESC [ n C only, which VT100, the Linux console and any emulator know; it
// never relies on line wrap (a long line scrolls sideways). With TERM=dumb,
// or when the raw-mode ioctl fails, or when input is not a terminal, lines
// are read as they come (canonReader): the terminal's own canonical mode
// edits them. golang.org/x/term's Terminal was not used: it returns the
// same io.EOF for ^C and ^D, and spins on an unterminated escape sequence
// longer than its 256-byte buffer.
//
// History (history.go) is one entry per line in $HISTFILE (default
// $HOME/.sh_history) with backslash and newline escaped, appended after
// every command and rewritten when it would exceed $HISTSIZE (default
// 1000) entries; any file content parses, and an unreadable or unwritable
// file leaves the shell working with a single warning.
//
// # Bounds
//
// An interactive line or command is at most 4 MiB (maxLine), an edited
// line 64 Ki characters (maxEditLine), a statement of a script 16 MiB
// (maxStatement), a history entry 64 KiB, and the history file is read
// from its last 8 MiB at most.
package main
