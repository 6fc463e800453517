package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"

	"valence.dev/userland/init/control"
)

// parseCommand turns svc's arguments into a request.
func parseCommand(args []string) (control.Request, error) {
	if len(args) == 0 {
		return control.Request{Op: control.OpList}, nil
	}
	ops := map[string]control.Op{"list": control.OpList, "start": control.OpStart, "stop": control.OpStop,
		"restart": control.OpRestart, "kill": control.OpKill, "log": control.OpLog}
	op, ok := ops[args[0]]
	if !ok {
		return control.Request{}, fmt.Errorf("unknown command %q", args[0])
	}
	req := control.Request{Version: control.Version, Op: op}
	rest := args[1:]
	switch {
	case op == control.OpList:
		if len(rest) != 0 {
			return control.Request{}, fmt.Errorf("list takes no arguments")
		}
		return req, nil
	case len(rest) == 0:
		return control.Request{}, fmt.Errorf("%s needs a service name", args[0])
	case op == control.OpKill && len(rest) <= 2:
		req.Name, req.Signal = rest[0], int32(syscall.SIGTERM)
		if len(rest) == 2 {
			sig, err := parseSignal(rest[1])
			if err != nil {
				return control.Request{}, err
			}
			req.Signal = int32(sig)
		}
	case len(rest) == 1:
		req.Name = rest[0]
	default:
		return control.Request{}, fmt.Errorf("too many arguments")
	}
	return req, req.Check()
}

// parseSignal reads KILL, SIGKILL, kill or 9.
func parseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > 64 {
			return 0, fmt.Errorf("signal %d is outside 1-64", n)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("unknown signal %q", s)
}

// printList prints the services as a table.
func printList(w io.Writer, all []control.Status) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tPID\tRESTARTS\tUPTIME\tBY\tLAST EXIT")
	for _, s := range all {
		pid := "-"
		if s.PID != 0 {
			pid = strconv.Itoa(int(s.PID))
		}
		last := s.LastExit
		if last == "" {
			last = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", s.Name, s.State, pid, s.Restarts,
			uptime(time.Duration(s.UptimeMS)*time.Millisecond), s.Supervisor, oneLine(last))
	}
	tw.Flush()
}

// uptime is compact: 45s, 3m07s, 2h05m, 3d04h; "-" for none.
func uptime(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd%02dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}

// oneLine keeps a table row on one line whatever init said.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// describe words a status: "netd: running (pid 40, restarts 1)".
func describe(s control.Status) string {
	var parts []string
	if s.PID != 0 {
		parts = append(parts, fmt.Sprintf("pid %d", s.PID))
	}
	if s.Restarts != 0 {
		parts = append(parts, fmt.Sprintf("restarts %d", s.Restarts))
	}
	if s.LastExit != "" && s.State != "running" {
		parts = append(parts, "last exit: "+oneLine(s.LastExit))
	}
	if len(parts) == 0 {
		return s.Name + ": " + s.State
	}
	return fmt.Sprintf("%s: %s (%s)", s.Name, s.State, strings.Join(parts, ", "))
}
