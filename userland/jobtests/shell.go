package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

// The minimal job-control shell of the console test: what a shell does
// for jobs, and nothing else. Commands:
//
//	run      the sleeper role as a foreground job in a group of its own
//	bgread   the reader role as a background job; it reads the terminal
//	         (and is stopped by SIGTTIN): the shell waits for that
//	fg [n]   job n (default: the last) to the foreground, continued
//	bg [n]   job n continued in the background
//	jobs     the jobs and their states
//	exit     kill the jobs and exit 0
//
// It ignores SIGTTOU (a job's os/exec child needs that to take the
// foreground, and the shell to take it back) and catches SIGINT,
// SIGQUIT and SIGTSTP (its jobs get the default actions back).

type job struct {
	n, pid int
	state  string
}

type jobShell struct {
	jobs []*job
	next int
}

func shell() int {
	if err := setAction(syscall.SIGTTOU, sigIgn); err != nil {
		fmt.Printf("jobsh: %v\n", err)
		return 1
	}
	c := make(chan os.Signal, 8)
	signal.Notify(c, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTSTP)
	if err := tcsetpgrp(0, syscall.Getpgrp()); err != nil {
		fmt.Printf("jobsh: no job control: %v\n", err)
	}
	sh := &jobShell{next: 1}
	in := bufio.NewScanner(os.Stdin)
	for {
		fmt.Print("jobsh$ ")
		if !in.Scan() {
			return sh.exit()
		}
		words := strings.Fields(in.Text())
		if len(words) == 0 {
			continue
		}
		switch words[0] {
		case "run":
			sh.start("sleeper", true)
		case "bgread":
			sh.start("reader", false)
		case "fg", "bg":
			j := sh.find(words[1:])
			if j == nil {
				fmt.Println("jobsh: no such job")
				continue
			}
			if words[0] == "fg" {
				sh.foreground(j)
			} else {
				sh.background(j)
			}
		case "jobs":
			for _, j := range sh.jobs {
				fmt.Printf("jobsh: [%d] %d %s\n", j.n, j.pid, j.state)
			}
		case "exit":
			return sh.exit()
		default:
			fmt.Printf("jobsh: %s: unknown command\n", words[0])
		}
	}
}

// start runs role as a job, in the foreground or not.
func (sh *jobShell) start(role string, fg bool) {
	cmd := exec.Command(self(), role)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Foreground: fg, Ctty: 0}
	if err := cmd.Start(); err != nil {
		fmt.Printf("jobsh: %v\n", err)
		return
	}
	j := &job{n: sh.next, pid: cmd.Process.Pid, state: "running"}
	sh.next++
	sh.jobs = append(sh.jobs, j)
	fmt.Printf("jobsh: [%d] %d started\n", j.n, j.pid)
	sh.wait(j)
}

// find is job words[0], or the last.
func (sh *jobShell) find(words []string) *job {
	if len(sh.jobs) == 0 {
		return nil
	}
	if len(words) == 0 {
		return sh.jobs[len(sh.jobs)-1]
	}
	n, _ := strconv.Atoi(strings.TrimPrefix(words[0], "%"))
	for _, j := range sh.jobs {
		if j.n == n {
			return j
		}
	}
	return nil
}

// foreground gives j the terminal, continues it and waits.
func (sh *jobShell) foreground(j *job) {
	if err := tcsetpgrp(0, j.pid); err != nil {
		fmt.Printf("jobsh: tcsetpgrp: %v\n", err)
	}
	syscall.Kill(-j.pid, syscall.SIGCONT)
	j.state = "running"
	sh.wait(j)
}

// background continues j without the terminal.
func (sh *jobShell) background(j *job) {
	syscall.Kill(-j.pid, syscall.SIGCONT)
	if _, ws, err := wait4(j.pid, syscall.WCONTINUED); err != nil || !ws.Continued() {
		fmt.Printf("jobsh: [%d] %d: %s %v\n", j.n, j.pid, describe(ws), err)
		return
	}
	j.state = "running"
	fmt.Printf("jobsh: [%d] %d continued in the background\n", j.n, j.pid)
}

// wait waits until j stops or ends, reports it, and takes the terminal
// back.
func (sh *jobShell) wait(j *job) {
	_, ws, err := wait4(j.pid, syscall.WUNTRACED)
	if err := tcsetpgrp(0, syscall.Getpgrp()); err != nil {
		fmt.Printf("jobsh: taking the terminal back: %v\n", err)
	}
	switch {
	case err != nil:
		fmt.Printf("jobsh: [%d] %d: %v\n", j.n, j.pid, err)
	case ws.Stopped():
		j.state = "stopped"
		fmt.Printf("jobsh: [%d] %d stopped by %s\n", j.n, j.pid, sigName(ws.StopSignal()))
		return
	case ws.Signaled():
		fmt.Printf("jobsh: [%d] %d killed by %s\n", j.n, j.pid, sigName(ws.Signal()))
	default:
		fmt.Printf("jobsh: [%d] %d exited %d\n", j.n, j.pid, ws.ExitStatus())
	}
	for i, x := range sh.jobs {
		if x == j {
			sh.jobs = append(sh.jobs[:i], sh.jobs[i+1:]...)
			break
		}
	}
}

func sigName(s syscall.Signal) string {
	names := map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGQUIT: "SIGQUIT", syscall.SIGTSTP: "SIGTSTP",
		syscall.SIGTTIN: "SIGTTIN", syscall.SIGTTOU: "SIGTTOU", syscall.SIGSTOP: "SIGSTOP", syscall.SIGKILL: "SIGKILL",
		syscall.SIGHUP: "SIGHUP", syscall.SIGTERM: "SIGTERM"}
	if n, ok := names[s]; ok {
		return n
	}
	return fmt.Sprintf("signal %d", int(s))
}

func (sh *jobShell) exit() int {
	for _, j := range sh.jobs {
		syscall.Kill(-j.pid, syscall.SIGKILL)
		wait4(j.pid, 0)
	}
	fmt.Println("jobsh: bye")
	return 0
}
