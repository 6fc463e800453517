package main

import (
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// svc runs /bin/svc with args, as a person would, shows what it printed
// on the console, and returns that and its exit status.
func svc(args ...string) (string, int) {
	out, err := exec.Command("/bin/svc", args...).CombinedOutput()
	fmt.Printf("svctests: $ svc %s\n%s", strings.Join(args, " "), out)
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		code = -1
		fmt.Printf("svctests: running svc: %v\n", err)
	}
	return string(out), code
}

// row is one line of svc list.
type row struct {
	State    string
	PID      int
	Restarts int
	By       string
	LastExit string
}

// rowRE matches a line of svc list: NAME STATE PID RESTARTS UPTIME BY LAST EXIT.
var rowRE = regexp.MustCompile(`^(\S+)\s+(\S+)\s+(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(.*)$`)

// list runs svc list quietly and parses it.
func list() (map[string]row, string, error) {
	out, err := exec.Command("/bin/svc", "list").CombinedOutput()
	if err != nil {
		return nil, string(out), fmt.Errorf("svc list: %v: %s", err, out)
	}
	rows := map[string]row{}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "NAME ") {
		return nil, string(out), fmt.Errorf("svc list printed no header: %q", out)
	}
	for _, l := range lines[1:] {
		m := rowRE.FindStringSubmatch(l)
		if m == nil {
			return nil, string(out), fmt.Errorf("svc list line %q does not parse", l)
		}
		r := row{State: m[2], By: m[6], LastExit: m[7]}
		if m[3] != "-" {
			r.PID, _ = strconv.Atoi(m[3])
		}
		r.Restarts, _ = strconv.Atoi(m[4])
		rows[m[1]] = r
	}
	return rows, string(out), nil
}

// waitFor polls svc list until cond accepts it (nil), and shows the list
// it accepted; after timeout it fails with cond's last complaint.
func waitFor(what string, timeout time.Duration, cond func(map[string]row) error) (map[string]row, error) {
	deadline := time.Now().Add(timeout)
	for {
		rows, out, err := list()
		if err == nil {
			if err = cond(rows); err == nil {
				fmt.Printf("svctests: %s:\n%s", what, out)
				return rows, nil
			}
		}
		if time.Now().After(deadline) {
			fmt.Printf("svctests: gave up waiting for %s:\n%s", what, out)
			return nil, fmt.Errorf("%s: not within %v: %v", what, timeout, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// running checks that every name is running with a process.
func running(rows map[string]row, names ...string) error {
	for _, n := range names {
		r, ok := rows[n]
		switch {
		case !ok:
			return fmt.Errorf("%s is not listed", n)
		case r.State != "running" || r.PID <= 0:
			return fmt.Errorf("%s is %s (pid %d)", n, r.State, r.PID)
		}
	}
	return nil
}
